using System;
using System.Collections.Generic;
using System.Linq;

namespace Paybridge.Xperience
{
    /// <summary>
    /// Builds the event bodies paybridge's <c>POST /webhooks/kentico</c> reads
    /// (docs/CONTRACTS.md, "Event body" and "Xperience by Kentico order object"):
    /// <c>{"id":…,"type":…,"created":…,"site":…,"platform":"xbyk","data":{"object":{…}}}</c>.
    /// </summary>
    /// <remarks>
    /// Column names are XbyK's own. Money: invariant-culture decimal strings with at least two
    /// decimals, never rounded. Times: <c>yyyy-MM-ddTHH:mm:ssZ</c> UTC. Text columns that are
    /// null are sent as <c>""</c> (the contract's "strings"); <c>OrderCustomerID</c>,
    /// <c>OrderOrderStatusID</c>, <c>OrderStatusName</c>, <c>OrderItemSKU</c> and <c>Customer</c>
    /// are null when the order has none. The same order object is what
    /// <c>GET /paybridge/orders/{guid}</c> answers.
    /// </remarks>
    public static class EventPayloadBuilder
    {
        public const string OrderCreated = "ecommerce.order.created";
        public const string OrderUpdated = "ecommerce.order.updated";
        public const string CustomerCreated = "ecommerce.customer.created";
        public const string CustomerUpdated = "ecommerce.customer.updated";
        public const string Platform = "xbyk";

        /// <param name="currency">ISO 4217 from <c>Paybridge:Currency</c>, or null: then no <c>OrderCurrencyCode</c>.</param>
        public static string BuildOrderEvent(OrderData order, string type, Guid eventId, long created, string site, string currency)
        {
            if (order == null) throw new ArgumentNullException(nameof(order));
            if (type != OrderCreated && type != OrderUpdated) throw new ArgumentException("Not an order event type: " + type, nameof(type));
            var w = new JsonWriter();
            BeginEnvelope(w, type, eventId, created, site);
            WriteOrder(w, order, currency);
            return EndEnvelope(w);
        }

        public static string BuildCustomerEvent(CustomerData customer, string type, Guid eventId, long created, string site)
        {
            if (customer == null) throw new ArgumentNullException(nameof(customer));
            if (type != CustomerCreated && type != CustomerUpdated) throw new ArgumentException("Not a customer event type: " + type, nameof(type));
            var w = new JsonWriter();
            BeginEnvelope(w, type, eventId, created, site);
            WriteCustomer(w, customer);
            return EndEnvelope(w);
        }

        /// <summary>The order object alone, as <c>data.object</c> carries it.</summary>
        public static string BuildOrderObject(OrderData order, string currency)
        {
            var w = new JsonWriter();
            WriteOrder(w, order, currency);
            return w.ToString();
        }

        /// <summary>Writes the order object as the next value of <paramref name="w"/>.</summary>
        public static void WriteOrder(JsonWriter w, OrderData order, string currency)
        {
            if (order == null) throw new ArgumentNullException(nameof(order));
            w.BeginObject()
                .Name("OrderID").Value(order.OrderID)
                .Name("OrderGUID").Value(order.OrderGUID)
                .Name("OrderNumber").Value(order.OrderNumber ?? string.Empty)
                .Name("OrderCustomerID").Value(PositiveOrNull(order.OrderCustomerID));
            if (!string.IsNullOrEmpty(currency))
            {
                w.Name("OrderCurrencyCode").Value(currency.ToUpperInvariant());
            }
            w.Name("OrderGrandTotal").Money(order.OrderGrandTotal)
                .Name("OrderTotalPrice").Money(order.OrderTotalPrice)
                .Name("OrderTotalTax").Money(order.OrderTotalTax)
                .Name("OrderTotalShipping").Money(order.OrderTotalShipping)
                .Name("OrderOrderStatusID").Value(PositiveOrNull(order.OrderOrderStatusID))
                .Name("OrderStatusName").Value(string.IsNullOrEmpty(order.OrderStatusName) ? null : order.OrderStatusName)
                .Name("OrderCreatedWhen").UtcTimestamp(order.OrderCreatedWhen)
                .Name("OrderModifiedWhen").UtcTimestamp(order.OrderModifiedWhen);

            w.Name("OrderItems").BeginArray();
            foreach (var item in order.OrderItems ?? new List<OrderItemData>())
            {
                w.BeginObject()
                    .Name("OrderItemSKU").Value(string.IsNullOrEmpty(item.OrderItemSKU) ? null : item.OrderItemSKU)
                    .Name("OrderItemName").Value(item.OrderItemName ?? string.Empty)
                    .Name("OrderItemQuantity").Number(item.OrderItemQuantity)
                    .Name("OrderItemUnitPrice").Money(item.OrderItemUnitPrice)
                    .Name("OrderItemTotalPrice").Money(item.OrderItemTotalPrice)
                    .EndObject();
            }
            w.EndArray();

            // Billing first, then shipping, then anything else in the given order (stable sort).
            w.Name("OrderAddresses").BeginArray();
            foreach (var a in (order.OrderAddresses ?? new List<OrderAddressData>()).OrderBy(x => AddressRank(x.OrderAddressType)))
            {
                w.BeginObject()
                    .Name("OrderAddressType").Value(NormalizeAddressType(a.OrderAddressType))
                    .Name("OrderAddressFirstName").Value(a.OrderAddressFirstName ?? string.Empty)
                    .Name("OrderAddressLastName").Value(a.OrderAddressLastName ?? string.Empty)
                    .Name("OrderAddressCompany").Value(a.OrderAddressCompany ?? string.Empty)
                    .Name("OrderAddressEmail").Value(a.OrderAddressEmail ?? string.Empty)
                    .Name("OrderAddressPhone").Value(a.OrderAddressPhone ?? string.Empty)
                    .Name("OrderAddressLine1").Value(a.OrderAddressLine1 ?? string.Empty)
                    .Name("OrderAddressLine2").Value(a.OrderAddressLine2 ?? string.Empty)
                    .Name("OrderAddressCity").Value(a.OrderAddressCity ?? string.Empty)
                    .Name("OrderAddressZip").Value(a.OrderAddressZip ?? string.Empty)
                    .Name("OrderAddressCountry").Value(a.OrderAddressCountry ?? string.Empty)
                    .Name("OrderAddressState").Value(a.OrderAddressState ?? string.Empty)
                    .EndObject();
            }
            w.EndArray();

            w.Name("Customer");
            if (order.Customer == null) w.Null(); else WriteCustomer(w, order.Customer);
            w.EndObject();
        }

        /// <summary>Writes the customer object as the next value of <paramref name="w"/>.</summary>
        public static void WriteCustomer(JsonWriter w, CustomerData c)
        {
            w.BeginObject()
                .Name("CustomerID").Value(c.CustomerID)
                .Name("CustomerGUID").Value(c.CustomerGUID)
                .Name("CustomerEmail").Value(c.CustomerEmail ?? string.Empty)
                .Name("CustomerFirstName").Value(c.CustomerFirstName ?? string.Empty)
                .Name("CustomerLastName").Value(c.CustomerLastName ?? string.Empty)
                .Name("CustomerPhone").Value(c.CustomerPhone ?? string.Empty)
                .EndObject();
        }

        private static void BeginEnvelope(JsonWriter w, string type, Guid eventId, long created, string site)
        {
            w.BeginObject()
                .Name("id").Value(eventId)
                .Name("type").Value(type)
                .Name("created").Value(created)
                .Name("site").Value(string.IsNullOrEmpty(site) ? null : site)
                .Name("platform").Value(Platform)
                .Name("data").BeginObject().Name("object");
        }

        private static string EndEnvelope(JsonWriter w)
        {
            w.EndObject().EndObject();
            return w.ToString();
        }

        private static int? PositiveOrNull(int? value) => value.HasValue && value.Value > 0 ? value : null;

        private static int AddressRank(string type)
        {
            string t = NormalizeAddressType(type);
            return t == "Billing" ? 0 : t == "Shipping" ? 1 : 2;
        }

        private static string NormalizeAddressType(string type)
        {
            string t = (type ?? string.Empty).Trim();
            if (t.Equals("Billing", StringComparison.OrdinalIgnoreCase)) return "Billing";
            if (t.Equals("Shipping", StringComparison.OrdinalIgnoreCase)) return "Shipping";
            return t;
        }
    }
}
