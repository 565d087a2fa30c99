using System;
using System.Collections.Generic;
using System.Globalization;

using Paybridge.Xperience;

using Xunit;

namespace Paybridge.Xperience.Tests
{
    /// <summary>The event bodies, byte for byte (docs/CONTRACTS.md, "Xperience by Kentico order object").</summary>
    public class PayloadTests
    {
        private static readonly Guid EventId = new Guid("9d7c3f0e-5b21-4e8a-a6f4-2c1b0e9d8a73");

        internal static OrderData SampleOrder()
        {
            return new OrderData
            {
                OrderID = 1042,
                OrderGUID = new Guid("2B4E8D0C-93F1-4C52-8A6E-5F0D7C3B1A29"),
                OrderNumber = "2026-001042",
                OrderCustomerID = 77,
                OrderGrandTotal = 129.900000000m,
                OrderTotalPrice = 119.9m,
                OrderTotalTax = 0m,
                OrderTotalShipping = 10.00m,
                OrderOrderStatusID = 3,
                OrderStatusName = "New",
                OrderCreatedWhen = new DateTime(2026, 11, 29, 12, 0, 0, DateTimeKind.Utc),
                OrderModifiedWhen = new DateTime(2026, 11, 29, 12, 5, 30, DateTimeKind.Unspecified),
                OrderItems = new List<OrderItemData>
                {
                    new OrderItemData { OrderItemSKU = "EG-100", OrderItemName = "Espresso Grinder \"Pro\"", OrderItemQuantity = 2.000000000m,
                        OrderItemUnitPrice = 49.950000000m, OrderItemTotalPrice = 99.9m },
                    new OrderItemData { OrderItemSKU = null, OrderItemName = "Caf\u00e9 beans Zo\u00eb", OrderItemQuantity = 1.5m,
                        OrderItemUnitPrice = 13.333333333m, OrderItemTotalPrice = 20m },
                },
                OrderAddresses = new List<OrderAddressData>
                {
                    // Shipping given first, lower-case: sent second, as "Shipping".
                    new OrderAddressData { OrderAddressType = "shipping", OrderAddressFirstName = "Ada", OrderAddressLastName = "Lovelace",
                        OrderAddressCompany = "Analytical Engines Ltd", OrderAddressEmail = "ada@example.com", OrderAddressPhone = null,
                        OrderAddressLine1 = "12 St James's Square", OrderAddressLine2 = "Floor 2\nRear door", OrderAddressCity = "London",
                        OrderAddressZip = "SW1Y 4JH", OrderAddressCountry = "GB", OrderAddressState = null },
                    new OrderAddressData { OrderAddressType = "Billing", OrderAddressFirstName = "Zo\u00eb", OrderAddressLastName = "\u0141ukasiewicz",
                        OrderAddressCompany = null, OrderAddressEmail = "zoe@example.com", OrderAddressPhone = "+1 212 555 0100",
                        OrderAddressLine1 = "350 Fifth Avenue", OrderAddressLine2 = "", OrderAddressCity = "New York",
                        OrderAddressZip = "10118", OrderAddressCountry = "US", OrderAddressState = "NY" },
                },
                Customer = new CustomerData { CustomerID = 77, CustomerGUID = new Guid("0b7f3a52-8f87-4c1e-b0a4-1d5c3e2f9a10"),
                    CustomerEmail = "zoe@example.com", CustomerFirstName = "Zo\u00eb", CustomerLastName = "\u0141ukasiewicz", CustomerPhone = null },
            };
        }

        internal const string SampleOrderObject =
            "{\"OrderID\":1042,\"OrderGUID\":\"2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a29\",\"OrderNumber\":\"2026-001042\",\"OrderCustomerID\":77,"
            + "\"OrderCurrencyCode\":\"EUR\","
            + "\"OrderGrandTotal\":\"129.90\",\"OrderTotalPrice\":\"119.90\",\"OrderTotalTax\":\"0.00\",\"OrderTotalShipping\":\"10.00\","
            + "\"OrderOrderStatusID\":3,\"OrderStatusName\":\"New\",\"OrderCreatedWhen\":\"2026-11-29T12:00:00Z\",\"OrderModifiedWhen\":\"2026-11-29T12:05:30Z\","
            + "\"OrderItems\":["
            + "{\"OrderItemSKU\":\"EG-100\",\"OrderItemName\":\"Espresso Grinder \\\"Pro\\\"\",\"OrderItemQuantity\":2,\"OrderItemUnitPrice\":\"49.95\",\"OrderItemTotalPrice\":\"99.90\"},"
            + "{\"OrderItemSKU\":null,\"OrderItemName\":\"Caf\u00e9 beans Zo\u00eb\",\"OrderItemQuantity\":1.5,\"OrderItemUnitPrice\":\"13.333333333\",\"OrderItemTotalPrice\":\"20.00\"}],"
            + "\"OrderAddresses\":["
            + "{\"OrderAddressType\":\"Billing\",\"OrderAddressFirstName\":\"Zo\u00eb\",\"OrderAddressLastName\":\"\u0141ukasiewicz\",\"OrderAddressCompany\":\"\","
            + "\"OrderAddressEmail\":\"zoe@example.com\",\"OrderAddressPhone\":\"+1 212 555 0100\",\"OrderAddressLine1\":\"350 Fifth Avenue\",\"OrderAddressLine2\":\"\","
            + "\"OrderAddressCity\":\"New York\",\"OrderAddressZip\":\"10118\",\"OrderAddressCountry\":\"US\",\"OrderAddressState\":\"NY\"},"
            + "{\"OrderAddressType\":\"Shipping\",\"OrderAddressFirstName\":\"Ada\",\"OrderAddressLastName\":\"Lovelace\",\"OrderAddressCompany\":\"Analytical Engines Ltd\","
            + "\"OrderAddressEmail\":\"ada@example.com\",\"OrderAddressPhone\":\"\",\"OrderAddressLine1\":\"12 St James's Square\",\"OrderAddressLine2\":\"Floor 2\\nRear door\","
            + "\"OrderAddressCity\":\"London\",\"OrderAddressZip\":\"SW1Y 4JH\",\"OrderAddressCountry\":\"GB\",\"OrderAddressState\":\"\"}],"
            + "\"Customer\":{\"CustomerID\":77,\"CustomerGUID\":\"0b7f3a52-8f87-4c1e-b0a4-1d5c3e2f9a10\",\"CustomerEmail\":\"zoe@example.com\","
            + "\"CustomerFirstName\":\"Zo\u00eb\",\"CustomerLastName\":\"\u0141ukasiewicz\",\"CustomerPhone\":\"\"}}";

        [Fact]
        public void OrderEventIsExactlyTheDocumentedBody()
        {
            string body = EventPayloadBuilder.BuildOrderEvent(SampleOrder(), EventPayloadBuilder.OrderCreated, EventId, 1764417600, "DancingGoat", "eur");
            Assert.Equal(
                "{\"id\":\"9d7c3f0e-5b21-4e8a-a6f4-2c1b0e9d8a73\",\"type\":\"ecommerce.order.created\",\"created\":1764417600,"
                + "\"site\":\"DancingGoat\",\"platform\":\"xbyk\",\"data\":{\"object\":" + SampleOrderObject + "}}",
                body);
            // Non-ASCII text is sent as UTF-8, not escaped: each such character adds its extra UTF-8 bytes.
            Assert.Equal(body.Length + CountNonAscii(body), EventSigner.BodyBytes(body).Length);
        }

        /// <summary>
        /// The committed test vector, which paybridge's own tests read with its XbyK order mapping
        /// (tests/integration/xbyk_vector.rs): the package sends exactly what paybridge reads.
        /// </summary>
        [Fact]
        public void TheCommittedTestVectorIsWhatTheBuilderSends()
        {
            string expected = System.IO.File.ReadAllText(RepoFile("infra/kentico/xbyk/order-event-test-vector.json"), new System.Text.UTF8Encoding(false));
            string body = EventPayloadBuilder.BuildOrderEvent(SampleOrder(), EventPayloadBuilder.OrderCreated, EventId, 1764417600, "DancingGoat", "eur");
            Assert.Equal(expected.TrimEnd('\n'), body);
        }

        /// <summary>A file of the repository, found from the working or the test assembly's folder upwards.</summary>
        private static string RepoFile(string relative)
        {
            foreach (string start in new[] { System.IO.Directory.GetCurrentDirectory(), AppDomain.CurrentDomain.BaseDirectory })
            {
                for (var dir = new System.IO.DirectoryInfo(start); dir != null; dir = dir.Parent)
                {
                    string candidate = System.IO.Path.Combine(dir.FullName, relative);
                    if (System.IO.File.Exists(candidate)) return candidate;
                }
            }
            throw new InvalidOperationException(relative + " not found above " + System.IO.Directory.GetCurrentDirectory());
        }

        [Fact]
        public void OrderObjectIsTheSameAsTheEventsDataObject()
        {
            Assert.Equal(SampleOrderObject, EventPayloadBuilder.BuildOrderObject(SampleOrder(), "EUR"));
        }

        [Fact]
        public void WithoutCurrencyThereIsNoOrderCurrencyCode()
        {
            string obj = EventPayloadBuilder.BuildOrderObject(SampleOrder(), null);
            Assert.Equal(SampleOrderObject.Replace("\"OrderCurrencyCode\":\"EUR\",", ""), obj);
        }

        [Fact]
        public void AnOrderWithoutCustomerStatusOrLinesHasNulls()
        {
            var order = new OrderData
            {
                OrderID = 7,
                OrderGUID = new Guid("00000000-0000-0000-0000-000000000007"),
                OrderNumber = null,
                OrderCustomerID = 0,
                OrderGrandTotal = -0.5m,
                OrderTotalPrice = 1234567.5m,
                OrderOrderStatusID = null,
                OrderStatusName = "",
                OrderCreatedWhen = new DateTime(2026, 1, 2, 3, 4, 5, 999, DateTimeKind.Utc),
                OrderModifiedWhen = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc),
                OrderItems = null,
                OrderAddresses = new List<OrderAddressData>(),
            };
            string body = EventPayloadBuilder.BuildOrderEvent(order, EventPayloadBuilder.OrderUpdated, EventId, 1, null, null);
            Assert.Equal(
                "{\"id\":\"9d7c3f0e-5b21-4e8a-a6f4-2c1b0e9d8a73\",\"type\":\"ecommerce.order.updated\",\"created\":1,\"site\":null,\"platform\":\"xbyk\","
                + "\"data\":{\"object\":{\"OrderID\":7,\"OrderGUID\":\"00000000-0000-0000-0000-000000000007\",\"OrderNumber\":\"\",\"OrderCustomerID\":null,"
                + "\"OrderGrandTotal\":\"-0.50\",\"OrderTotalPrice\":\"1234567.50\",\"OrderTotalTax\":\"0.00\",\"OrderTotalShipping\":\"0.00\","
                + "\"OrderOrderStatusID\":null,\"OrderStatusName\":null,\"OrderCreatedWhen\":\"2026-01-02T03:04:05Z\",\"OrderModifiedWhen\":\"2026-01-02T03:04:05Z\","
                + "\"OrderItems\":[],\"OrderAddresses\":[],\"Customer\":null}}}",
                body);
        }

        [Fact]
        public void MoneyIgnoresTheCurrentCulture()
        {
            var previous = CultureInfo.CurrentCulture;
            try
            {
                CultureInfo.CurrentCulture = new CultureInfo("cs-CZ");
                string obj = EventPayloadBuilder.BuildOrderObject(SampleOrder(), "EUR");
                Assert.Equal(SampleOrderObject, obj);
            }
            finally
            {
                CultureInfo.CurrentCulture = previous;
            }
        }

        [Fact]
        public void CustomerEventCarriesTheCustomerColumns()
        {
            var customer = SampleOrder().Customer;
            customer.CustomerPhone = "+44 20 7946 0000";
            customer.CustomerLastName = "O'Brien \"Jr\" \u2028";
            string body = EventPayloadBuilder.BuildCustomerEvent(customer, EventPayloadBuilder.CustomerUpdated, EventId, 1764417600, "Shop");
            Assert.Equal(
                "{\"id\":\"9d7c3f0e-5b21-4e8a-a6f4-2c1b0e9d8a73\",\"type\":\"ecommerce.customer.updated\",\"created\":1764417600,\"site\":\"Shop\",\"platform\":\"xbyk\","
                + "\"data\":{\"object\":{\"CustomerID\":77,\"CustomerGUID\":\"0b7f3a52-8f87-4c1e-b0a4-1d5c3e2f9a10\",\"CustomerEmail\":\"zoe@example.com\","
                + "\"CustomerFirstName\":\"Zo\u00eb\",\"CustomerLastName\":\"O'Brien \\\"Jr\\\" \\u2028\",\"CustomerPhone\":\"+44 20 7946 0000\"}}}",
                body);
        }

        [Fact]
        public void WrongEventTypesAreRefused()
        {
            Assert.Throws<ArgumentException>(() => EventPayloadBuilder.BuildOrderEvent(SampleOrder(), EventPayloadBuilder.CustomerCreated, EventId, 1, null, null));
            Assert.Throws<ArgumentException>(() => EventPayloadBuilder.BuildCustomerEvent(SampleOrder().Customer, EventPayloadBuilder.OrderCreated, EventId, 1, null));
        }

        [Fact]
        public void TheBodyParsesBackAsStrictJson()
        {
            string body = EventPayloadBuilder.BuildOrderEvent(SampleOrder(), EventPayloadBuilder.OrderCreated, EventId, 1764417600, "DancingGoat", "EUR");
            var root = (JsonObject)JsonReader.Parse(EventSigner.BodyBytes(body));
            Assert.Equal(body, new JsonWriter().Raw(root).ToString());
        }

        private static int CountNonAscii(string s)
        {
            int n = 0;
            foreach (char c in s) if (c > 0x7F) n += c > 0x7FF ? 2 : 1;
            return n;
        }
    }
}
