using System;

using CMS.Ecommerce;
using CMS.Globalization;
using CMS.SiteProvider;

namespace Paybridge.Webhooks
{
    /// <summary>
    /// Builds the event bodies of docs/CONTRACTS.md, Kentico events, with Kentico 13 column names:
    /// <c>{"id","type","created","site","data":{"object":{…}}}</c>.
    /// </summary>
    /// <remarks>
    /// Runs on the sender's background thread, on objects freshly loaded by ID after the change
    /// was committed (see <see cref="WebhookSender"/>), so items, addresses and status are final.
    /// Money is a decimal string in the invariant culture, times are UTC, IDs are JSON numbers.
    /// Only the documented columns are sent: custom data, payment results and invoices stay in
    /// Kentico (smaller events, less personal data in transit and in logs).
    /// </remarks>
    internal static class EventPayloadBuilder
    {
        public const string OrderCreated = "ecommerce.order.created";
        public const string OrderUpdated = "ecommerce.order.updated";
        public const string CustomerCreated = "ecommerce.customer.created";
        public const string CustomerUpdated = "ecommerce.customer.updated";

        public static string BuildOrderEvent(OrderInfo order, string type, Guid eventId, long createdUnix)
        {
            var w = new JsonWriter();
            BeginEnvelope(w, eventId, type, createdUnix, SiteName(order.OrderSiteID));
            WriteOrder(w, order);
            return EndEnvelope(w);
        }

        /// <param name="fallbackSite">The site of the request that changed the customer, used when
        /// the customer has no site of its own (registered customers can be global).</param>
        public static string BuildCustomerEvent(CustomerInfo customer, string type, Guid eventId, long createdUnix, string fallbackSite)
        {
            var w = new JsonWriter();
            BeginEnvelope(w, eventId, type, createdUnix, SiteName(customer.CustomerSiteID) ?? fallbackSite);
            WriteCustomer(w, customer);
            return EndEnvelope(w);
        }

        private static void BeginEnvelope(JsonWriter w, Guid eventId, string type, long createdUnix, string site)
        {
            w.BeginObject()
                .Name("id").Value(eventId)
                .Name("type").Value(type)
                .Name("created").Value(createdUnix)
                // null only when the object has no site and none was known at event time.
                .Name("site").Value(site)
                .Name("data").BeginObject()
                .Name("object");
        }

        private static string EndEnvelope(JsonWriter w) => w.EndObject().EndObject().ToString();

        private static void WriteOrder(JsonWriter w, OrderInfo order)
        {
            var currency = order.OrderCurrencyID > 0 ? CurrencyInfo.Provider.Get(order.OrderCurrencyID) : null;
            // Status 0 is legal in the middle of checkout; paybridge treats a null name as "no status".
            var status = order.OrderStatusID > 0 ? OrderStatusInfo.Provider.Get(order.OrderStatusID) : null;

            w.BeginObject()
                .Name("OrderID").Value(order.OrderID)
                .Name("OrderGUID").Value(order.OrderGUID)
                .Name("OrderCustomerID");
            if (order.OrderCustomerID > 0) w.Value(order.OrderCustomerID); else w.Null();
            w
                // Kentico lets admins type any currency code; ISO 4217 codes are upper-case.
                .Name("OrderCurrencyCode").Value(currency?.CurrencyCode?.Trim().ToUpperInvariant())
                .Name("OrderGrandTotal").Money(order.OrderGrandTotal)
                .Name("OrderTotalPrice").Money(order.OrderTotalPrice)
                .Name("OrderTotalTax").Money(order.OrderTotalTax)
                .Name("OrderTotalShipping").Money(order.OrderTotalShipping)
                .Name("OrderStatusName").Value(status?.StatusName)
                .Name("OrderIsPaid").Value(order.OrderIsPaid)
                .Name("OrderLastModified").UtcTimestamp(ToUtc(order.OrderLastModified));

            w.Name("OrderItems").BeginArray();
            // Every line, product options and bundle items included: together they add up to
            // OrderTotalPrice, which paybridge checks (within a cent per line).
            foreach (OrderItemInfo item in OrderItemInfoProvider.GetOrderItems(order.OrderID).OrderBy("OrderItemID"))
            {
                w.BeginObject()
                    .Name("OrderItemSKUID").Value(item.OrderItemSKUID)
                    .Name("OrderItemSKUName").Value(item.OrderItemSKUName)
                    // The SKU may have been deleted since the order was placed.
                    .Name("SKUNumber").Value(item.OrderItemSKU?.SKUNumber)
                    .Name("OrderItemUnitCount").Value(item.OrderItemUnitCount)
                    .Name("OrderItemUnitPrice").Money(item.OrderItemUnitPrice)
                    .Name("OrderItemTotalPrice").Money(item.OrderItemTotalPrice)
                    .EndObject();
            }
            w.EndArray();

            w.Name("OrderBillingAddress");
            WriteAddress(w, order.OrderBillingAddress);
            w.Name("OrderShippingAddress");
            WriteAddress(w, order.OrderShippingAddress);

            w.Name("Customer");
            var customer = order.OrderCustomerID > 0 ? CustomerInfo.Provider.Get(order.OrderCustomerID) : null;
            if (customer == null) w.Null(); else WriteCustomer(w, customer);

            w.EndObject();
        }

        private static void WriteAddress(JsonWriter w, OrderAddressInfo address)
        {
            if (address == null)
            {
                w.Null();
                return;
            }

            // Kentico stores country and state as IDs; paybridge wants what a person reads.
            // The ISO 3166 two-letter code is unambiguous; the display name is the fallback for
            // countries an admin added without one (paybridge maps names to codes).
            var country = address.AddressCountryID > 0 ? CountryInfo.Provider.Get(address.AddressCountryID) : null;
            var state = address.AddressStateID > 0 ? StateInfo.Provider.Get(address.AddressStateID) : null;
            string countryText = country == null ? null
                : !string.IsNullOrWhiteSpace(country.CountryTwoLetterCode) ? country.CountryTwoLetterCode.Trim()
                : country.CountryDisplayName;
            string stateText = state == null ? string.Empty
                : !string.IsNullOrWhiteSpace(state.StateCode) ? state.StateCode.Trim()
                : state.StateDisplayName;

            w.BeginObject()
                .Name("AddressPersonalName").Value(address.AddressPersonalName ?? string.Empty)
                .Name("AddressLine1").Value(address.AddressLine1 ?? string.Empty)
                .Name("AddressLine2").Value(address.AddressLine2 ?? string.Empty)
                .Name("AddressCity").Value(address.AddressCity ?? string.Empty)
                .Name("AddressZip").Value(address.AddressZip ?? string.Empty)
                .Name("AddressState").Value(stateText)
                .Name("AddressCountry").Value(countryText)
                .Name("AddressPhone").Value(address.AddressPhone ?? string.Empty)
                .EndObject();
        }

        private static void WriteCustomer(JsonWriter w, CustomerInfo customer)
        {
            w.BeginObject()
                .Name("CustomerID").Value(customer.CustomerID)
                .Name("CustomerGUID").Value(customer.CustomerGUID)
                .Name("CustomerEmail").Value(customer.CustomerEmail ?? string.Empty)
                .Name("CustomerFirstName").Value(customer.CustomerFirstName ?? string.Empty)
                .Name("CustomerLastName").Value(customer.CustomerLastName ?? string.Empty)
                .Name("CustomerPhone").Value(customer.CustomerPhone ?? string.Empty)
                .Name("CustomerCompany").Value(customer.CustomerCompany ?? string.Empty)
                .EndObject();
        }

        private static string SiteName(int siteId) =>
            siteId > 0 ? SiteInfo.Provider.Get(siteId)?.SiteName : null;

        /// <summary>
        /// Kentico keeps date-times in the web server's local time (Kind Unspecified); send UTC so
        /// the value means the same thing everywhere.
        /// </summary>
        private static DateTime ToUtc(DateTime value)
        {
            if (value == DateTime.MinValue) return value;
            if (value.Kind == DateTimeKind.Utc) return value;
            try
            {
                return TimeZoneInfo.ConvertTimeToUtc(DateTime.SpecifyKind(value, DateTimeKind.Unspecified), TimeZoneInfo.Local);
            }
            catch (ArgumentException)
            {
                // A wall-clock time skipped by a daylight-saving change; cannot come from
                // DateTime.Now, but never fail an event over a timestamp.
                return DateTime.SpecifyKind(value, DateTimeKind.Local).ToUniversalTime();
            }
        }
    }
}
