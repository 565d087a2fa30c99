using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

using Paybridge.Xperience;

using Xunit;

namespace Paybridge.Xperience.Tests
{
    /// <summary>The four routes, request to answer, against <see cref="InMemoryOrderStore"/>.</summary>
    public class EndpointTests
    {
        private const long Now = 1764417600;
        private const string Guid1 = "2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a29";
        private static readonly string[] Secrets = { SignatureTests.Secret, SignatureTests.NextSecret };

        private readonly InMemoryOrderStore store = new InMemoryOrderStore();
        private readonly PaybridgeEndpoints endpoints;

        public EndpointTests()
        {
            var order = PayloadTests.SampleOrder();
            order.OrderOrderStatusID = 1;
            order.OrderStatusName = "New";
            order.HasPaybridgeDataField = true;
            order.PaybridgeData = "{\"ShopNote\":\"gift wrap\",\"stripepaymentstatus\":\"processing\"}";
            store.Orders.Add(order);
            endpoints = new PaybridgeEndpoints(store, Secrets, "EUR", new IdempotencyMemory(), () => Now);
        }

        private static PaybridgeRequest Signed(string method, string target, string body, long t = Now, string secret = null)
        {
            byte[] bytes = EventSigner.BodyBytes(body ?? string.Empty);
            return new PaybridgeRequest
            {
                Method = method,
                PathAndQuery = target,
                Body = bytes,
                SignatureHeader = RequestSignature.BuildHeader(new[] { secret ?? SignatureTests.Secret }, t, method, target, bytes),
            };
        }

        private PaybridgeAnswer Write(string body, string guid = Guid1)
        {
            var request = Signed("POST", "/paybridge/orders/" + guid + "/status", body);
            return endpoints.WriteStatusAsync(request, guid, CancellationToken.None).GetAwaiter().GetResult();
        }

        private OrderData Order => store.Orders[0];

        // ---- signature ----

        [Fact]
        public void TheContractVectorIsAcceptedByTheWriteRoute()
        {
            var clock = new PaybridgeEndpoints(store, Secrets, null, null, () => SignatureTests.T);
            var request = new PaybridgeRequest
            {
                Method = "POST",
                PathAndQuery = SignatureTests.PostTarget,
                Body = EventSigner.BodyBytes(SignatureTests.PostBody),
                SignatureHeader = "t=1764417600,v1=bae32d592664ade5f099525ca7df546bb279fe297590a66ffa42f50aa811c42f",
            };
            var answer = clock.WriteStatusAsync(request, Guid1, CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal("200 {\"order_guid\":\"" + Guid1 + "\",\"status\":\"Paid\",\"status_changed\":true,\"replayed\":false}", answer.ToString());
        }

        [Fact]
        public void TheContractGetVectorIsAcceptedByTheListRoute()
        {
            var clock = new PaybridgeEndpoints(store, Secrets, null, null, () => SignatureTests.T + 299);
            var request = new PaybridgeRequest
            {
                Method = "GET",
                PathAndQuery = SignatureTests.GetTarget,
                SignatureHeader = "t=1764417600,v1=179fc910615b141e7df41d2f4f2e2b68da67b71fcad4b019462285bfb4b3f331",
            };
            var answer = clock.ListOrdersAsync(request, CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal("200 {\"orders\":[]}", answer.ToString()); // the sample order was modified before 2026-11-30T12:00:00Z
        }

        [Fact]
        public void UnsignedOrStaleRequestsReadAndWriteNothing()
        {
            string body = "{\"event_id\":\"pbw_1\",\"status\":\"Paid\"}";
            var unsigned = Signed("POST", "/paybridge/orders/" + Guid1 + "/status", body);
            unsigned.SignatureHeader = null;
            var a = endpoints.WriteStatusAsync(unsigned, Guid1, CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal("401 {\"error\":\"signature_invalid\",\"message\":\"the X-Paybridge-Signature header is missing\"}", a.ToString());

            var stale = Signed("POST", "/paybridge/orders/" + Guid1 + "/status", body, Now - 301);
            a = endpoints.WriteStatusAsync(stale, Guid1, CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal(401, a.StatusCode);
            Assert.Contains("outside the tolerance", a.Body);

            var otherSecret = Signed("GET", "/paybridge/health", "", Now, "a-third-secret-that-nobody-has");
            a = endpoints.HealthAsync(otherSecret, CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal(401, a.StatusCode);
            Assert.Contains("no matching signature", a.Body);

            // Signed for one order, sent for another.
            var moved = Signed("POST", "/paybridge/orders/" + Guid1 + "/status", body);
            moved.PathAndQuery = "/paybridge/orders/00000000-0000-0000-0000-000000000001/status";
            a = endpoints.WriteStatusAsync(moved, "00000000-0000-0000-0000-000000000001", CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal(401, a.StatusCode);

            Assert.Empty(store.Updates);
            Assert.Empty(store.LogLines);
        }

        private PaybridgeEndpoints FromSettings(string apiSecrets)
        {
            var values = new Dictionary<string, string>
            {
                { PaybridgeSettings.WebhookUrlKey, "https://paybridge.example.com/webhooks/kentico" },
                { PaybridgeSettings.WebhookSecretsKey, SignatureTests.Secret + "," + SignatureTests.NextSecret },
            };
            if (apiSecrets != null) values.Add(PaybridgeSettings.ApiSecretsKey, apiSecrets);
            var settings = PaybridgeSettings.Load(k => values.TryGetValue(k, out var v) ? v : null, "Shop", "/srv/shop");
            Assert.True(settings.IsUsable, string.Join(" ", settings.Problems));
            return new PaybridgeEndpoints(store, settings, new IdempotencyMemory(), () => Now);
        }

        [Fact]
        public void WithoutApiSecretsTheWebhookSecretsVerifyRequests()
        {
            var routes = FromSettings(null);
            var a = routes.HealthAsync(Signed("GET", "/paybridge/health", "", Now, SignatureTests.Secret), CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal(200, a.StatusCode);
            a = routes.HealthAsync(Signed("GET", "/paybridge/health", "", Now, SignatureTests.NextSecret), CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal(200, a.StatusCode);
            a = routes.HealthAsync(Signed("GET", "/paybridge/health", "", Now, SettingsTests.ApiSecret), CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal(401, a.StatusCode);
        }

        [Fact]
        public void WithApiSecretsOnlyTheyVerifyRequests()
        {
            var routes = FromSettings(SettingsTests.ApiSecret + "," + SettingsTests.NextApiSecret);
            string body = "{\"event_id\":\"pbw_api_1\",\"status\":\"Paid\"}";
            string target = "/paybridge/orders/" + Guid1 + "/status";

            // Signed with a webhook secret: refused, nothing read or written.
            foreach (string webhookSecret in new[] { SignatureTests.Secret, SignatureTests.NextSecret })
            {
                var a = routes.HealthAsync(Signed("GET", "/paybridge/health", "", Now, webhookSecret), CancellationToken.None).GetAwaiter().GetResult();
                Assert.Equal(401, a.StatusCode);
                Assert.Contains("no matching signature", a.Body);
                a = routes.WriteStatusAsync(Signed("POST", target, body, Now, webhookSecret), Guid1, CancellationToken.None).GetAwaiter().GetResult();
                Assert.Equal(401, a.StatusCode);
            }
            Assert.Empty(store.Updates);

            // Signed with either API secret: accepted.
            var ok = routes.HealthAsync(Signed("GET", "/paybridge/health", "", Now, SettingsTests.NextApiSecret), CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal(200, ok.StatusCode);
            ok = routes.WriteStatusAsync(Signed("POST", target, body, Now, SettingsTests.ApiSecret), Guid1, CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal("200 {\"order_guid\":\"" + Guid1 + "\",\"status\":\"Paid\",\"status_changed\":true,\"replayed\":false}", ok.ToString());
            Assert.Single(store.Updates);
        }

        [Fact]
        public void SecondSecretVerifiesToo()
        {
            var a = endpoints.HealthAsync(Signed("GET", "/paybridge/health", "", Now, SignatureTests.NextSecret), CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal(200, a.StatusCode);
        }

        // ---- health, order, list ----

        [Fact]
        public void HealthListsTheStatusesWithTheirDisplayNamesInOrder()
        {
            var a = endpoints.HealthAsync(Signed("GET", "/paybridge/health", ""), CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal("200 {\"package\":\"Paybridge.Xperience\",\"version\":\"1.0.0\",\"statuses\":["
                + "{\"name\":\"New\",\"display_name\":\"New order\"},{\"name\":\"PaymentFailed\",\"display_name\":\"Payment failed\"},"
                + "{\"name\":\"Paid\",\"display_name\":\"Payment received\"},{\"name\":\"Canceled\",\"display_name\":\"Cancelled\"}]}", a.ToString());
        }

        [Fact]
        public void GetOrderAnswersTheOrderObject()
        {
            string guid = "{" + Guid1.ToUpperInvariant() + "}";
            var a = endpoints.GetOrderAsync(Signed("GET", "/paybridge/orders/" + guid, ""), guid, CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal(200, a.StatusCode);
            Assert.Equal(PayloadTests.SampleOrderObject.Replace("\"OrderOrderStatusID\":3", "\"OrderOrderStatusID\":1"), a.Body);
        }

        [Fact]
        public void GetOrderAnswers404And400()
        {
            string other = "00000000-0000-0000-0000-000000000001";
            var a = endpoints.GetOrderAsync(Signed("GET", "/paybridge/orders/" + other, ""), other, CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal("404 {\"error\":\"order_not_found\"}", a.ToString());

            a = endpoints.GetOrderAsync(Signed("GET", "/paybridge/orders/1042", ""), "1042", CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal(400, a.StatusCode);
            Assert.StartsWith("{\"error\":\"bad_request\",\"message\":\"'1042' is not an order GUID", a.Body);
        }

        [Fact]
        public void ListPagesByOrderId()
        {
            for (int i = 1; i <= 3; i++)
            {
                var o = PayloadTests.SampleOrder();
                o.OrderID = 2000 + i;
                o.OrderGUID = Guid.NewGuid();
                o.OrderModifiedWhen = new DateTime(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc).AddMinutes(i - 2);
                store.Orders.Add(o);
            }
            string target = "/paybridge/orders?modified_since=2026-11-30T12%3A00%3A00Z&after_id=0&limit=100";
            var a = endpoints.ListOrdersAsync(Signed("GET", target, ""), CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal(200, a.StatusCode);
            var orders = (List<object>)((JsonObject)JsonReader.Parse(a.Body)).Single().Value;
            Assert.Equal(new[] { "2002", "2003" }, orders.Select(o => GetNumber((JsonObject)o, "OrderID")).ToArray());

            target = "/paybridge/orders?modified_since=2026-11-30T12%3A00%3A00Z&after_id=2002&limit=1";
            a = endpoints.ListOrdersAsync(Signed("GET", target, ""), CancellationToken.None).GetAwaiter().GetResult();
            orders = (List<object>)((JsonObject)JsonReader.Parse(a.Body)).Single().Value;
            Assert.Equal("2003", GetNumber((JsonObject)Assert.Single(orders), "OrderID"));

            target = "/paybridge/orders?modified_since=2026-11-30T12%3A00%3A00Z&after_id=2003";
            a = endpoints.ListOrdersAsync(Signed("GET", target, ""), CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal("200 {\"orders\":[]}", a.ToString());
        }

        [Fact]
        public void ListRefusesAMalformedParameter()
        {
            string target = "/paybridge/orders?modified_since=yesterday";
            var a = endpoints.ListOrdersAsync(Signed("GET", target, ""), CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal(400, a.StatusCode);
            Assert.Contains("modified_since 'yesterday' is not an RFC 3339 date-time", a.Body);
        }

        // ---- the write-back ----

        [Fact]
        public void WriteSetsStatusAndMergesPaybridgeData()
        {
            var a = Write("{\"event_id\":\"pbw_1\",\"status\":\"paid\",\"paid\":true,\"payment_reference\":\"pi_1\","
                + "\"details\":{\"StripePaymentStatus\":\"succeeded\",\"StripeDeclineReason\":null},\"future_field\":[1,2]}");
            Assert.Equal("200 {\"order_guid\":\"" + Guid1 + "\",\"status\":\"Paid\",\"status_changed\":true,\"replayed\":false}", a.ToString());
            var update = Assert.Single(store.Updates);
            Assert.Equal(3, update.NewStatusID.Value);
            Assert.Equal("{\"ShopNote\":\"gift wrap\",\"StripePaymentStatus\":\"succeeded\",\"paid\":true,\"payment_reference\":\"pi_1\"}", update.NewPaybridgeData);
            Assert.Contains("Information ORDER_WRITE Order 1042", Assert.Single(store.LogLines));
        }

        [Fact]
        public void DisplayNameIsAcceptedAfterCodeNames()
        {
            var a = Write("{\"event_id\":\"pbw_2\",\"status\":\"PAYMENT RECEIVED\"}");
            Assert.Contains("\"status\":\"Paid\",\"status_changed\":true", a.Body);
        }

        [Fact]
        public void UnknownStatusIs422WithTheKnownNamesAndWritesNothing()
        {
            var a = Write("{\"event_id\":\"pbw_3\",\"status\":\"Payed\",\"paid\":true}");
            Assert.Equal("422 {\"error\":\"unknown_status\",\"status\":\"Payed\",\"known_statuses\":[\"New\",\"PaymentFailed\",\"Paid\",\"Canceled\"]}", a.ToString());
            Assert.Empty(store.Updates);
            // Not remembered: once the status exists, the same write goes through.
            store.Statuses.Add(new OrderStatusData { OrderStatusID = 9, OrderStatusName = "Payed", OrderStatusDisplayName = "Payed" });
            Assert.Equal(200, Write("{\"event_id\":\"pbw_3\",\"status\":\"Payed\",\"paid\":true}").StatusCode);
        }

        [Fact]
        public void AnEmptyStatusIsAnUnknownStatus()
        {
            var a = Write("{\"event_id\":\"pbw_e\",\"status\":\"\"}");
            Assert.Equal(422, a.StatusCode);
            Assert.StartsWith("{\"error\":\"unknown_status\",\"status\":\"\",\"known_statuses\":[", a.Body);
        }

        [Fact]
        public void SameStatusChangesNothing()
        {
            Order.PaybridgeData = null;
            var a = Write("{\"event_id\":\"pbw_4\",\"status\":\"New\",\"details\":{\"StripeRetryUrl\":null}}");
            Assert.Equal("200 {\"order_guid\":\"" + Guid1 + "\",\"status\":\"New\",\"status_changed\":false,\"replayed\":false}", a.ToString());
            Assert.Empty(store.Updates);
        }

        [Fact]
        public void NullStatusLeavesTheStatusAndWritesOnlyData()
        {
            var a = Write("{\"event_id\":\"pbw_5\",\"status\":null,\"details\":{\"StripePaymentIntent\":\"pi_9\"}}");
            Assert.Equal("200 {\"order_guid\":\"" + Guid1 + "\",\"status\":\"New\",\"status_changed\":false,\"replayed\":false}", a.ToString());
            var update = Assert.Single(store.Updates);
            Assert.False(update.NewStatusID.HasValue);
            Assert.Equal("{\"ShopNote\":\"gift wrap\",\"stripepaymentstatus\":\"processing\",\"StripePaymentIntent\":\"pi_9\"}", update.NewPaybridgeData);
        }

        [Fact]
        public void ReplayAnswersTheFirstAnswerAndWritesNothing()
        {
            string body = "{\"event_id\":\"pbw_6\",\"status\":\"Paid\",\"paid\":true}";
            var first = Write(body);
            Assert.Equal("200 {\"order_guid\":\"" + Guid1 + "\",\"status\":\"Paid\",\"status_changed\":true,\"replayed\":false}", first.ToString());
            // Someone changes the status in the admin meanwhile; the replay still answers the first answer.
            Order.OrderOrderStatusID = 4;
            Order.OrderStatusName = "Canceled";
            var again = Write(body);
            Assert.Equal("200 {\"order_guid\":\"" + Guid1 + "\",\"status\":\"Paid\",\"status_changed\":true,\"replayed\":true}", again.ToString());
            Assert.Single(store.Updates);
            Assert.Equal(4, Order.OrderOrderStatusID.Value);
        }

        [Fact]
        public void WriteToAMissingOrderIs404()
        {
            string other = "00000000-0000-0000-0000-000000000001";
            Assert.Equal("404 {\"error\":\"order_not_found\"}", Write("{\"event_id\":\"pbw_7\",\"status\":\"Paid\"}", other).ToString());
        }

        [Fact]
        public void WithoutThePaybridgeDataFieldOnlyTheStatusIsWritten()
        {
            Order.HasPaybridgeDataField = false;
            var a = Write("{\"event_id\":\"pbw_8\",\"status\":\"Paid\",\"paid\":true,\"details\":{\"StripePaymentStatus\":\"succeeded\"}}");
            Assert.Equal(200, a.StatusCode);
            var update = Assert.Single(store.Updates);
            Assert.Null(update.NewPaybridgeData);
            Assert.Contains("no PaybridgeData field", store.LogLines[0]);
        }

        [Fact]
        public void APaybridgeDataThatIsNotJsonIsNotOverwritten()
        {
            Order.PaybridgeData = "<CustomData/>";
            var a = Write("{\"event_id\":\"pbw_9\",\"status\":\"Paid\",\"paid\":true}");
            Assert.Equal(500, a.StatusCode);
            Assert.StartsWith("{\"error\":\"internal\",\"message\":\"The order's PaybridgeData is not a JSON object", a.Body);
            Assert.Empty(store.Updates);
            Assert.Contains("REQUEST_FAILED", store.LogLines.Single());
        }

        [Fact]
        public void StoreFailuresAre500()
        {
            store.FailWith = new InvalidOperationException("database is down");
            var a = endpoints.HealthAsync(Signed("GET", "/paybridge/health", ""), CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal("500 {\"error\":\"internal\",\"message\":\"database is down\"}", a.ToString());
        }

        [Theory]
        [InlineData("", "the body is empty")]
        [InlineData("[]", "the body is not a JSON object")]
        [InlineData("{\"event_id\":\"a\",}", "the body is not valid JSON")]
        [InlineData("{\"event_id\":\"a\",\"event_id\":\"b\"}", "appears twice")]
        [InlineData("{}", "event_id is missing")]
        [InlineData("{\"event_id\":null}", "event_id is missing")]
        [InlineData("{\"event_id\":42}", "event_id must be a string")]
        [InlineData("{\"event_id\":\"\"}", "event_id must have 1 to 200 characters")]
        [InlineData("{\"event_id\":\"a\",\"status\":5}", "status must be a string or null")]
        [InlineData("{\"event_id\":\"a\",\"paid\":\"true\"}", "paid must be true, false or null")]
        [InlineData("{\"event_id\":\"a\",\"paid\":1}", "paid must be true, false or null")]
        [InlineData("{\"event_id\":\"a\",\"payment_reference\":{}}", "payment_reference must be a string or null")]
        [InlineData("{\"event_id\":\"a\",\"details\":\"x\"}", "details must be an object")]
        [InlineData("{\"event_id\":\"a\",\"details\":{\"StripePaymentStatus\":1}}", "details.StripePaymentStatus must be a string or null")]
        [InlineData("{\"event_id\":\"a\",\"details\":{\"\":\"x\"}}", "details has an empty key")]
        public void BadBodiesAre400(string body, string message)
        {
            var a = Write(body);
            Assert.Equal(400, a.StatusCode);
            Assert.StartsWith("{\"error\":\"bad_request\",\"message\":\"", a.Body);
            Assert.Contains(message, a.Body);
            Assert.Empty(store.Updates);
        }

        [Fact]
        public void EventIdLengthIsCountedInCharacters()
        {
            Assert.Equal(200, Write("{\"event_id\":\"" + new string('x', 200) + "\"}").StatusCode);
            Assert.Contains("1 to 200 characters", Write("{\"event_id\":\"" + new string('x', 201) + "\"}").Body);
            // 200 characters outside the BMP are 400 UTF-16 units but 200 characters.
            string emoji = string.Concat(Enumerable.Repeat("\ud83d\ude00", 200));
            Assert.Equal(200, Write("{\"event_id\":\"" + emoji + "\"}").StatusCode);
        }

        [Fact]
        public void BodiesOver64KiBAreRefused()
        {
            string pad = new string(' ', WriteBackRequest.MaxBodyBytes);
            var a = Write("{\"event_id\":\"pbw_big\"}" + pad);
            Assert.Equal(400, a.StatusCode);
            Assert.Contains("larger than the limit of 65536 bytes", a.Body);
            string fits = "{\"event_id\":\"pbw_fits\"}";
            Assert.Equal(200, Write(fits + new string(' ', WriteBackRequest.MaxBodyBytes - fits.Length)).StatusCode);
        }

        [Fact]
        public void InvalidUtf8IsRefused()
        {
            byte[] body = { (byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}' };
            string target = "/paybridge/orders/" + Guid1 + "/status";
            var request = new PaybridgeRequest
            {
                Method = "POST", PathAndQuery = target, Body = body,
                SignatureHeader = RequestSignature.BuildHeader(Secrets, Now, "POST", target, body),
            };
            var a = endpoints.WriteStatusAsync(request, Guid1, CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal(400, a.StatusCode);
            Assert.Contains("not valid UTF-8", a.Body);
        }

        private static string GetNumber(JsonObject o, string name)
        {
            object v;
            Assert.True(o.TryGetValue(name, out v));
            return ((JsonNumber)v).Text;
        }
    }
}
