using System;
using System.Collections.Generic;
using System.Linq;

using Paybridge.Webhooks;

using Xunit;

namespace Paybridge.Webhooks.Tests
{
    /// <summary>The worked example of ../signature-test-vector.md, byte for byte.</summary>
    public class WebhookSignerTests
    {
        private const string Secret = "Hq3vX9mL2pR7tY4wZ8nB1cD6fG0jK5sA3eU7iO9yT2rW4qE6";
        private const string NextSecret = "N2bV6cX8zL1kJ4hG7fD9sA3pO5iU0yT6rE2wQ8mB4nZ1xC3v";
        private const long Timestamp = 1764417600;

        private const string Body =
            "{\"id\":\"9d7c3f0e-5b21-4e8a-a6f4-2c1b0e9d8a73\",\"type\":\"ecommerce.customer.created\",\"created\":1764417600,"
            + "\"site\":\"DancingGoat\",\"data\":{\"object\":{\"CustomerID\":77,\"CustomerGUID\":\"0b7f3a52-8f87-4c1e-b0a4-1d5c3e2f9a10\","
            + "\"CustomerEmail\":\"zoe@example.com\",\"CustomerFirstName\":\"Zo\u00eb\",\"CustomerLastName\":\"\u0141ukasiewicz\","
            + "\"CustomerPhone\":\"+44 20 7946 0000\",\"CustomerCompany\":\"Caf\u00e9 \\\"Moka\\\" & Co.\"}}}";

        private const string ExpectedV1 = "67ee13da03662577a993e9cbc2eb4b4852eb03ff36f0f1f8a23428f4931ea18c";
        private const string ExpectedNextV1 = "1ffd38599af30c487a5afb4906ab931e0a961b531dd423f7d848c48d27962252";

        [Fact]
        public void BodyBytesAreTheDocumentedUtf8()
        {
            byte[] bytes = WebhookSigner.BodyBytes(Body);
            Assert.Equal(384, bytes.Length); // 381 characters; ë, Ł and é take two bytes each
            using (var sha = System.Security.Cryptography.SHA256.Create())
            {
                Assert.Equal("8178053e07fc03737912dc5ffff86fe1bd4d16890e72b3492f55d059f2c94b9e",
                    BitConverter.ToString(sha.ComputeHash(bytes)).Replace("-", "").ToLowerInvariant());
            }
        }

        [Fact]
        public void SignsTheWorkedExample()
        {
            Assert.Equal(ExpectedV1, WebhookSigner.ComputeSignature(Secret, Timestamp, WebhookSigner.BodyBytes(Body)));
            Assert.Equal("t=1764417600,v1=" + ExpectedV1,
                WebhookSigner.BuildHeader(new[] { Secret }, Timestamp, WebhookSigner.BodyBytes(Body)));
        }

        [Fact]
        public void SendsOneV1PerSecretDuringRotation()
        {
            Assert.Equal("t=1764417600,v1=" + ExpectedV1 + ",v1=" + ExpectedNextV1,
                WebhookSigner.BuildHeader(new[] { Secret, NextSecret }, Timestamp, WebhookSigner.BodyBytes(Body)));
        }

        [Fact]
        public void AnyChangeToTheBodyChangesTheSignature()
        {
            byte[] tampered = WebhookSigner.BodyBytes(Body.Replace("77", "78"));
            Assert.NotEqual(ExpectedV1, WebhookSigner.ComputeSignature(Secret, Timestamp, tampered));
        }

        [Fact]
        public void JsonWriterProducesTheExampleBodyExactly()
        {
            var w = new JsonWriter();
            w.BeginObject()
                .Name("id").Value(new Guid("9d7c3f0e-5b21-4e8a-a6f4-2c1b0e9d8a73"))
                .Name("type").Value("ecommerce.customer.created")
                .Name("created").Value(Timestamp)
                .Name("site").Value("DancingGoat")
                .Name("data").BeginObject().Name("object").BeginObject()
                .Name("CustomerID").Value(77)
                .Name("CustomerGUID").Value(new Guid("0b7f3a52-8f87-4c1e-b0a4-1d5c3e2f9a10"))
                .Name("CustomerEmail").Value("zoe@example.com")
                .Name("CustomerFirstName").Value("Zo\u00eb")
                .Name("CustomerLastName").Value("\u0141ukasiewicz")
                .Name("CustomerPhone").Value("+44 20 7946 0000")
                .Name("CustomerCompany").Value("Caf\u00e9 \"Moka\" & Co.")
                .EndObject().EndObject().EndObject();
            Assert.Equal(Body, w.ToString());
        }

        [Theory]
        [InlineData("129.900000000", "129.90")]
        [InlineData("0.123456789", "0.123456789")]
        [InlineData("-5", "-5.00")]
        [InlineData("1234567.5", "1234567.50")]
        public void MoneyIsAnInvariantDecimalString(string value, string expected)
        {
            var previous = System.Globalization.CultureInfo.CurrentCulture;
            try
            {
                // A decimal comma culture must not leak into the JSON.
                System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("cs-CZ");
                Assert.Equal(expected, JsonWriter.FormatMoney(decimal.Parse(value, System.Globalization.CultureInfo.InvariantCulture)));
            }
            finally
            {
                System.Globalization.CultureInfo.CurrentCulture = previous;
            }
        }

        [Fact]
        public void EscapesControlCharacters()
        {
            var w = new JsonWriter();
            w.BeginObject().Name("a").BeginArray().Value("x\n\u0001\u2028").Null().Value(true).EndArray().Name("b").BeginObject().EndObject().EndObject();
            Assert.Equal("{\"a\":[\"x\\n\\u0001\\u2028\",null,true],\"b\":{}}", w.ToString());
        }

        [Fact]
        public void SettingsListEveryProblemAtOnce()
        {
            var values = new Dictionary<string, string>
            {
                { PaybridgeSettings.EnabledKey, "true" },
                { PaybridgeSettings.WebhookUrlKey, "http://paybridge.example.com/webhooks/kentico" },
                { PaybridgeSettings.WebhookSecretsKey, "short" },
                { PaybridgeSettings.TimeoutSecondsKey, "0" },
            };
            var s = PaybridgeSettings.Load(k => values.TryGetValue(k, out var v) ? v : null, "C:\\inetpub\\CMS");
            Assert.False(s.IsUsable);
            Assert.Equal(3, s.Problems.Count);
        }

        [Fact]
        public void SettingsAcceptTwoSecretsAndLocalHttp()
        {
            var values = new Dictionary<string, string>
            {
                { PaybridgeSettings.EnabledKey, "True" },
                { PaybridgeSettings.WebhookUrlKey, "http://127.0.0.1:9000/lambda-url/kentico-webhook/" },
                { PaybridgeSettings.WebhookSecretsKey, " " + Secret + " , " + NextSecret + " " },
            };
            var s = PaybridgeSettings.Load(k => values.TryGetValue(k, out var v) ? v : null, "/srv/cms");
            Assert.True(s.IsUsable, string.Join(" ", s.Problems));
            Assert.Equal(new[] { Secret, NextSecret }, s.Secrets.ToArray());
            Assert.DoesNotContain(Secret, s.ToString());
        }

        [Fact]
        public void DisabledByDefault()
        {
            var s = PaybridgeSettings.Load(k => null, null);
            Assert.False(s.Enabled);
            Assert.Empty(s.Problems);
        }
    }
}
