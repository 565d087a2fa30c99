using System;
using System.Collections.Generic;
using System.Linq;

using Paybridge.Xperience;

using Xunit;

namespace Paybridge.Xperience.Tests
{
    /// <summary>Route values, query strings, strict JSON, the PaybridgeData merge and the id memory.</summary>
    public class ParsingTests
    {
        private static readonly Guid Expected = new Guid("2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a29");

        [Theory]
        [InlineData("2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a29")]
        [InlineData("2B4E8D0C-93F1-4C52-8A6E-5F0D7C3B1A29")]
        [InlineData("{2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a29}")]
        [InlineData("{2B4E8D0C-93f1-4c52-8a6e-5f0d7c3b1a29}")]
        public void OrderGuidsAreMatchedWithoutCaseAndBraces(string value)
        {
            Guid guid;
            string error;
            Assert.True(RouteParsing.TryParseOrderGuid(value, out guid, out error), error);
            Assert.Equal(Expected, guid);
        }

        [Theory]
        [InlineData("2b4e8d0c93f14c528a6e5f0d7c3b1a29")]
        [InlineData("2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a2")]
        [InlineData("(2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a29)")]
        [InlineData("{2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a29")]
        [InlineData("1042")]
        [InlineData("")]
        [InlineData(null)]
        public void OtherValuesAreNotOrderGuids(string value)
        {
            Guid guid;
            string error;
            Assert.False(RouteParsing.TryParseOrderGuid(value, out guid, out error));
            Assert.Contains("is not an order GUID", error);
        }

        [Fact]
        public void ListQueryDefaults()
        {
            string error;
            var q = RouteParsing.ParseListQuery("?modified_since=2026-11-30T12%3A00%3A00Z", out error);
            Assert.Null(error);
            Assert.Equal(new DateTime(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc), q.ModifiedSinceUtc);
            Assert.Equal(DateTimeKind.Utc, q.ModifiedSinceUtc.Kind);
            Assert.Equal(0, q.AfterId);
            Assert.Equal(100, q.Limit);
        }

        [Fact]
        public void ListQueryReadsEveryParameter()
        {
            string error;
            var q = RouteParsing.ParseListQuery("modified_since=2026-11-30T13:30:00.123456789%2B01:30&after_id=1042&limit=1&other=x", out error);
            Assert.Null(error);
            Assert.Equal(new DateTime(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc).AddTicks(1234567), q.ModifiedSinceUtc);
            Assert.Equal(1042, q.AfterId);
            Assert.Equal(1, q.Limit);
        }

        [Theory]
        [InlineData("", "modified_since is missing")]
        [InlineData("after_id=1", "modified_since is missing")]
        [InlineData("modified_since=", "modified_since is missing")]
        [InlineData("modified_since=2026-11-30", "not an RFC 3339 date-time")]
        [InlineData("modified_since=2026-11-30T12:00:00", "not an RFC 3339 date-time")]
        [InlineData("modified_since=2026-11-30 12:00:00Z", "not an RFC 3339 date-time")]
        [InlineData("modified_since=2026-02-30T12:00:00Z", "not an RFC 3339 date-time")]
        [InlineData("modified_since=1764417600", "not an RFC 3339 date-time")]
        [InlineData("modified_since=2026-11-30T12:00:00Z&after_id=-1", "after_id must be a whole number")]
        [InlineData("modified_since=2026-11-30T12:00:00Z&after_id=x", "after_id must be a whole number")]
        [InlineData("modified_since=2026-11-30T12:00:00Z&after_id=99999999999", "after_id must be a whole number")]
        [InlineData("modified_since=2026-11-30T12:00:00Z&limit=0", "limit must be a whole number from 1 to 100")]
        [InlineData("modified_since=2026-11-30T12:00:00Z&limit=101", "limit must be a whole number from 1 to 100")]
        [InlineData("modified_since=2026-11-30T12:00:00Z&limit=1.5", "limit must be a whole number from 1 to 100")]
        [InlineData("modified_since=2026-11-30T12:00:00Z&limit=10&limit=20", "limit is given more than once")]
        [InlineData("modified_since=2026-11-30T12:00:00Z&LIMIT=10&limit=20", "limit is given more than once")]
        public void MalformedListQueries(string query, string message)
        {
            string error;
            Assert.Null(RouteParsing.ParseListQuery(query, out error));
            Assert.Contains(message, error);
        }

        [Theory]
        [InlineData("2026-11-30T12:00:00Z")]
        [InlineData("2026-11-30t12:00:00z")]
        [InlineData("2026-11-30T12:00:00+00:00")]
        [InlineData("2026-11-30T07:00:00-05:00")]
        [InlineData("2026-11-30T12:00:00.000Z")]
        public void Rfc3339Forms(string value)
        {
            DateTime utc;
            Assert.True(RouteParsing.TryParseRfc3339(value, out utc));
            Assert.Equal(new DateTime(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc), utc);
        }

        // ---- strict JSON ----

        [Theory]
        [InlineData("{\"a\":1,}")]
        [InlineData("[1,]")]
        [InlineData("{'a':1}")]
        [InlineData("{\"a\":01}")]
        [InlineData("{\"a\":1.}")]
        [InlineData("{\"a\":.5}")]
        [InlineData("{\"a\":+1}")]
        [InlineData("{\"a\":NaN}")]
        [InlineData("{\"a\":\"\\x\"}")]
        [InlineData("{\"a\":\"\\ud800\"}")]
        [InlineData("{\"a\":\"tab\there\"}")]
        [InlineData("{\"a\":1} x")]
        [InlineData("{\"a\":1}{}")]
        [InlineData("/* c */ {}")]
        [InlineData("{\"a\":tru}")]
        [InlineData("{\"a\":1,\"a\":2}")]
        [InlineData("")]
        public void StrictJsonRefuses(string text)
        {
            Assert.Throws<JsonFormatException>(() => JsonReader.Parse(text));
        }

        [Fact]
        public void StrictJsonReadsAndWritesBack()
        {
            string text = " {\"s\":\"\\u00e9\\\"\\n\\ud83d\\ude00\",\"n\":[-0,1.50,2e-3,1E+2],\"b\":[true,false,null],\"o\":{}} ";
            var root = (JsonObject)JsonReader.Parse(text);
            object s;
            Assert.True(root.TryGetValue("s", out s));
            Assert.Equal("\u00e9\"\n\ud83d\ude00", (string)s);
            Assert.Equal("{\"s\":\"\u00e9\\\"\\n\ud83d\ude00\",\"n\":[-0,1.50,2e-3,1E+2],\"b\":[true,false,null],\"o\":{}}", new JsonWriter().Raw(root).ToString());
        }

        [Fact]
        public void NestingIsLimited()
        {
            Assert.NotNull(JsonReader.Parse(new string('[', 64) + new string(']', 64)));
            Assert.Throws<JsonFormatException>(() => JsonReader.Parse(new string('[', 65) + new string(']', 65)));
        }

        [Fact]
        public void ByteOrderMarkIsRefused()
        {
            Assert.Throws<JsonFormatException>(() => JsonReader.Parse(new byte[] { 0xEF, 0xBB, 0xBF, (byte)'{', (byte)'}' }));
        }

        // ---- PaybridgeData ----

        private static readonly KeyValuePair<string, string>[] NoDetails = new KeyValuePair<string, string>[0];

        private static KeyValuePair<string, string> D(string key, string value) => new KeyValuePair<string, string>(key, value);

        [Fact]
        public void MergeIntoAnEmptyField()
        {
            Assert.Equal("{\"paid\":true,\"payment_reference\":\"pi_1\",\"StripePaymentStatus\":\"succeeded\"}",
                PaybridgeData.Merge(null, true, "pi_1", new[] { D("StripePaymentStatus", "succeeded"), D("StripeRetryUrl", null) }));
            Assert.Equal("{}", PaybridgeData.Merge("  ", null, null, NoDetails));
        }

        [Fact]
        public void MergeReplacesPaybridgesKeysAndKeepsOthers()
        {
            string current = "{\"Loyalty\":{\"points\":12.50},\"STRIPEPAYMENTSTATUS\":\"processing\",\"Paid\":false,\"StripeDeclineReason\":\"card_declined\",\"Note\":\"\\u00e9\"}";
            string merged = PaybridgeData.Merge(current, true, null,
                new[] { D("StripePaymentStatus", "succeeded"), D("StripeDeclineReason", null), D("StripePaymentIntent", "pi_2") });
            Assert.Equal("{\"Loyalty\":{\"points\":12.50},\"StripePaymentStatus\":\"succeeded\",\"paid\":true,\"Note\":\"\u00e9\",\"StripePaymentIntent\":\"pi_2\"}", merged);
        }

        [Fact]
        public void MergeLeavesPaidAndReferenceAloneWhenNull()
        {
            Assert.Equal("{\"paid\":true,\"payment_reference\":\"pi_1\"}",
                PaybridgeData.Merge("{\"paid\":true,\"payment_reference\":\"pi_1\"}", null, null, NoDetails));
        }

        [Theory]
        [InlineData("[1]")]
        [InlineData("\"text\"")]
        [InlineData("<CustomData><A>1</A></CustomData>")]
        [InlineData("{\"a\":1")]
        public void MergeRefusesAFieldThatIsNotAJsonObject(string current)
        {
            Assert.Throws<FormatException>(() => PaybridgeData.Merge(current, true, null, NoDetails));
        }

        // ---- idempotency memory ----

        [Fact]
        public void MemoryKeepsTheFirstAnswer()
        {
            var memory = new IdempotencyMemory();
            var first = new WriteBackAnswer(Expected, "Paid", true);
            memory.Remember("pbw_1", first);
            memory.Remember("pbw_1", new WriteBackAnswer(Expected, "Canceled", false));
            Assert.Same(first, memory.Find("pbw_1"));
            Assert.Null(memory.Find("pbw_2"));
            Assert.Equal("{\"order_guid\":\"2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a29\",\"status\":\"Paid\",\"status_changed\":true,\"replayed\":true}", first.ToJson(true));
        }

        [Fact]
        public void MemoryDefaultsAreTenThousandIdsOrADay()
        {
            var memory = new IdempotencyMemory();
            Assert.Equal(10000, memory.MinEntries);
            Assert.Equal(TimeSpan.FromHours(24), memory.Retention);
            var now = new DateTime(2026, 11, 30, 0, 0, 0, DateTimeKind.Utc);
            var clocked = new IdempotencyMemory(10000, TimeSpan.FromHours(24), 100000, () => now);
            for (int i = 0; i < 10500; i++) clocked.Remember("id" + i, new WriteBackAnswer(Expected, null, false));
            Assert.Equal(10500, clocked.Count); // all younger than a day: all kept
            now = now.AddHours(25);
            clocked.Remember("late", new WriteBackAnswer(Expected, null, false));
            Assert.Equal(10000, clocked.Count); // the newest 10,000 are kept even though older than a day
            Assert.NotNull(clocked.Find("late"));
            Assert.Null(clocked.Find("id0"));
            Assert.NotNull(clocked.Find("id10499"));
        }

        [Fact]
        public void MemoryHasAHardCap()
        {
            var now = new DateTime(2026, 11, 30, 0, 0, 0, DateTimeKind.Utc);
            var memory = new IdempotencyMemory(3, TimeSpan.FromHours(24), 5, () => now);
            for (int i = 0; i < 8; i++) memory.Remember("id" + i, new WriteBackAnswer(Expected, null, false));
            Assert.Equal(5, memory.Count);
            Assert.Null(memory.Find("id2"));
            Assert.NotNull(memory.Find("id3"));
        }

        [Theory]
        [InlineData("/paybridge/orders/x?limit=5", "", "/paybridge/orders/x", "?limit=5", "/paybridge/orders/x?limit=5")]
        [InlineData("/paybridge/orders/a%2Fb", "", "/paybridge/orders/a/b", "", "/paybridge/orders/a%2Fb")]
        [InlineData("/shop/paybridge/health", "/shop", "/paybridge/health", "", "/shop/paybridge/health")]
        [InlineData("/SHOP/paybridge/health", "/shop", "/paybridge/health", "", "/SHOP/paybridge/health")]
        [InlineData("/shop?x=1", "/shop", "", "?x=1", "/shop?x=1")]
        [InlineData("/paybridge/health", "/shop", "/paybridge/health", "", "/shop/paybridge/health")]
        [InlineData("/paybridge/health", "/shop/", "/paybridge/health", "", "/shop/paybridge/health")]
        [InlineData("/shopx/paybridge/health", "/shop", "/paybridge/health", "", "/shop/shopx/paybridge/health")]
        [InlineData(null, "/shop", "/paybridge/orders", "?after_id=3", "/shop/paybridge/orders?after_id=3")]
        [InlineData("", null, "/paybridge/health", null, "/paybridge/health")]
        [InlineData("https://shop.example.com/paybridge/health", "", "/paybridge/health", "", "/paybridge/health")]
        public void TheSignedTargetIsTheRawTargetWithTheBasePath(string raw, string pathBase, string path, string query, string expected)
        {
            Assert.Equal(expected, RouteParsing.RequestTarget(raw, pathBase, path, query));
        }
    }
}
