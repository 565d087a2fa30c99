using System;
using System.Linq;
using System.Security.Cryptography;

using Paybridge.Xperience;

using Xunit;

namespace Paybridge.Xperience.Tests
{
    /// <summary>
    /// The request-signature vector of docs/CONTRACTS.md ("Xperience by Kentico order endpoints",
    /// computed with Python's hmac) and the event-signature vector of
    /// infra/kentico/signature-test-vector.md, byte for byte; then the verifier's refusals.
    /// </summary>
    public class SignatureTests
    {
        internal const string Secret = "Hq3vX9mL2pR7tY4wZ8nB1cD6fG0jK5sA3eU7iO9yT2rW4qE6";
        internal const string NextSecret = "N2bV6cX8zL1kJ4hG7fD9sA3pO5iU0yT6rE2wQ8mB4nZ1xC3v";
        internal const long T = 1764417600;

        internal const string PostTarget = "/paybridge/orders/2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a29/status";
        internal const string GetTarget = "/paybridge/orders?modified_since=2026-11-30T12%3A00%3A00Z&after_id=0&limit=100";

        // Non-ASCII escaped so that the source file's encoding cannot matter: ë U+00EB, — U+2014, “ U+201C, ” U+201D.
        internal const string PostBody =
            "{\"event_id\":\"pbw_0f3a9c1d2e4b5a6978800a1b2c3d4e5f\",\"status\":\"Paid\",\"paid\":true,"
            + "\"payment_reference\":\"pi_3QxYzA2eZvKYlo2C1a2b3c4d\",\"details\":{\"StripePaymentStatus\":\"succeeded\","
            + "\"StripeDeclineReason\":\"Zo\u00eb's card \u2014 \u201cdeclined\u201d\"}}";

        private const string PostV1 = "b3a928e99d6e1f396c5ccffc12b71adeb8bb84507781af2e37ff336c29c7a6bf";
        private const string PostNextV1 = "bae32d592664ade5f099525ca7df546bb279fe297590a66ffa42f50aa811c42f";
        private const string GetV1 = "179fc910615b141e7df41d2f4f2e2b68da67b71fcad4b019462285bfb4b3f331";
        private const string GetNextV1 = "5deaae0f66d79dfaa20868b71d92f09ba241a057ecd3bb09fdfbf4d2fc7b703d";

        private static readonly string[] Both = { Secret, NextSecret };
        private static byte[] Body => EventSigner.BodyBytes(PostBody);
        private static readonly byte[] NoBody = new byte[0];

        [Fact]
        public void PostBodyIsTheDocumentedBytes()
        {
            Assert.Equal(230, Body.Length);
            Assert.Equal("6499d55433d186a2ad6938dc6d014301cd160c293f983b27907a01683df43c6d", Sha256Hex(Body));
        }

        [Fact]
        public void SignsThePostVectorWithBothSecrets()
        {
            Assert.Equal(PostV1, RequestSignature.ComputeSignature(Secret, T, "POST", PostTarget, Body));
            Assert.Equal(PostNextV1, RequestSignature.ComputeSignature(NextSecret, T, "POST", PostTarget, Body));
            Assert.Equal("t=1764417600,v1=" + PostV1 + ",v1=" + PostNextV1, RequestSignature.BuildHeader(Both, T, "POST", PostTarget, Body));
        }

        [Fact]
        public void SignsTheGetVectorWithBothSecrets()
        {
            Assert.Equal(GetV1, RequestSignature.ComputeSignature(Secret, T, "GET", GetTarget, NoBody));
            Assert.Equal(GetNextV1, RequestSignature.ComputeSignature(NextSecret, T, "GET", GetTarget, NoBody));
            Assert.Equal(GetV1, RequestSignature.ComputeSignature(Secret, T, "get", GetTarget, null));
        }

        [Fact]
        public void TheMessageIsTimestampDotMethodSpaceTargetDotBody()
        {
            // Computed independently of RequestSignature: "<t>.<METHOD> <path-and-query>.<body>".
            using (var h = new HMACSHA256(EventSigner.BodyBytes(Secret)))
            {
                byte[] prefix = EventSigner.BodyBytes("1764417600.POST " + PostTarget + ".");
                byte[] message = prefix.Concat(Body).ToArray();
                Assert.Equal(PostV1, BitConverter.ToString(h.ComputeHash(message)).Replace("-", "").ToLowerInvariant());
            }
            using (var h = new HMACSHA256(EventSigner.BodyBytes(Secret)))
            {
                // A GET's message ends with the dot.
                string expected = BitConverter.ToString(h.ComputeHash(EventSigner.BodyBytes("1764417600.GET /paybridge/health."))).Replace("-", "").ToLowerInvariant();
                Assert.Equal(expected, RequestSignature.ComputeSignature(Secret, T, "GET", "/paybridge/health", NoBody));
            }
        }

        [Fact]
        public void TheFormerLineFeedFormatIsRefused()
        {
            // Before the contract change the target and the body were joined by "\n", not ".".
            using (var h = new HMACSHA256(EventSigner.BodyBytes(Secret)))
            {
                string old = BitConverter.ToString(h.ComputeHash(EventSigner.BodyBytes("1764417600.GET " + GetTarget + "\n"))).Replace("-", "").ToLowerInvariant();
                Assert.NotEqual(GetV1, old);
                var check = Verify("t=1764417600,v1=" + old, "GET", GetTarget, NoBody, T, Secret);
                Assert.False(check.IsValid);
                Assert.StartsWith("no matching signature", check.Failure);
            }
        }

        [Fact]
        public void VerifiesTheVectorsWithEitherSecret()
        {
            Assert.True(Verify("t=1764417600,v1=" + PostV1, "POST", PostTarget, Body, T, Secret).IsValid);
            Assert.True(Verify("t=1764417600,v1=" + PostNextV1, "POST", PostTarget, Body, T, NextSecret).IsValid);
            Assert.True(Verify("t=1764417600,v1=" + GetV1 + ",v1=" + GetNextV1, "GET", GetTarget, NoBody, T, Secret).IsValid);
            Assert.True(Verify("t=1764417600,v1=" + GetV1, "GET", GetTarget, NoBody, T, NextSecret, Secret).IsValid);
            // Upper-case hex and spaces around parts are accepted, as by paybridge's verifier.
            Assert.True(Verify(" t=1764417600 , v1=" + PostV1.ToUpperInvariant() + " ", "POST", PostTarget, Body, T, Secret).IsValid);
        }

        [Fact]
        public void RotationAcceptsAnyV1AgainstAnySecret()
        {
            // paybridge signs with OLD,NEW; the package already has only NEW.
            Assert.True(Verify("t=1764417600,v1=" + PostV1 + ",v1=" + PostNextV1, "POST", PostTarget, Body, T, NextSecret).IsValid);
            // paybridge signs with NEW only; the package still has OLD,NEW.
            Assert.True(Verify("t=1764417600,v1=" + PostNextV1, "POST", PostTarget, Body, T, Secret, NextSecret).IsValid);
            // Neither secret matches.
            var check = Verify("t=1764417600,v1=" + PostNextV1, "POST", PostTarget, Body, T, Secret);
            Assert.False(check.IsValid);
            Assert.StartsWith("no matching signature", check.Failure);
        }

        [Fact]
        public void ToleranceIsThreeHundredSecondsEitherWay()
        {
            string header = "t=1764417600,v1=" + PostV1;
            Assert.True(Verify(header, "POST", PostTarget, Body, T + 300, Secret).IsValid);
            Assert.True(Verify(header, "POST", PostTarget, Body, T - 300, Secret).IsValid);

            var old = Verify(header, "POST", PostTarget, Body, T + 301, Secret);
            Assert.False(old.IsValid);
            Assert.Contains("outside the tolerance: 301 s old", old.Failure);

            var future = Verify(header, "POST", PostTarget, Body, T - 301, Secret);
            Assert.False(future.IsValid);
            Assert.Contains("outside the tolerance: 301 s in the future", future.Failure);
        }

        [Fact]
        public void TimeIsCheckedBeforeTheMac()
        {
            var check = Verify("t=1764417000,v1=" + new string('0', 64), "POST", PostTarget, Body, T, Secret);
            Assert.Contains("outside the tolerance", check.Failure);
        }

        [Fact]
        public void TamperedMethodPathQueryOrBodyIsRefused()
        {
            string post = "t=1764417600,v1=" + PostV1;
            Assert.False(Verify(post, "PUT", PostTarget, Body, T, Secret).IsValid);
            Assert.False(Verify(post, "POST", PostTarget.Replace("1a29", "1a28"), Body, T, Secret).IsValid);
            Assert.False(Verify(post, "POST", "/base" + PostTarget, Body, T, Secret).IsValid);
            Assert.False(Verify(post, "POST", PostTarget, EventSigner.BodyBytes(PostBody.Replace("Paid", "Paid ")), T, Secret).IsValid);
            Assert.False(Verify(post, "POST", PostTarget, EventSigner.BodyBytes(PostBody + "\n"), T, Secret).IsValid);

            string get = "t=1764417600,v1=" + GetV1;
            Assert.False(Verify(get, "GET", GetTarget.Replace("limit=100", "limit=10"), NoBody, T, Secret).IsValid);
            // The decoded query is not what was signed: the target must be the raw one.
            Assert.False(Verify(get, "GET", Uri.UnescapeDataString(GetTarget), NoBody, T, Secret).IsValid);
            Assert.False(Verify(get, "POST", GetTarget, NoBody, T, Secret).IsValid);
            // Another timestamp with the same v1.
            Assert.False(Verify("t=1764417601,v1=" + GetV1, "GET", GetTarget, NoBody, T, Secret).IsValid);
        }

        [Theory]
        [InlineData(null, "header is missing")]
        [InlineData("", "header is missing")]
        [InlineData("   ", "header is missing")]
        [InlineData("v1=b3a928e99d6e1f396c5ccffc12b71adeb8bb84507781af2e37ff336c29c7a6bf", "malformed: no t")]
        [InlineData("t=1764417600", "malformed: no v1")]
        [InlineData("t=1764417600,v1=abc", "malformed: no v1")]
        [InlineData("t=1764417600,v0=b3a928e99d6e1f396c5ccffc12b71adeb8bb84507781af2e37ff336c29c7a6bf", "malformed: no v1")]
        [InlineData("t=17644176OO,v1=b3a928e99d6e1f396c5ccffc12b71adeb8bb84507781af2e37ff336c29c7a6bf", "malformed: t is not an integer")]
        [InlineData("t=-1764417600,v1=b3a928e99d6e1f396c5ccffc12b71adeb8bb84507781af2e37ff336c29c7a6bf", "malformed: t is not an integer")]
        [InlineData("t=1764417600,t=1764417600,v1=b3a928e99d6e1f396c5ccffc12b71adeb8bb84507781af2e37ff336c29c7a6bf", "malformed: more than one t")]
        [InlineData("garbage", "malformed: no t")]
        public void MalformedHeadersAreRefusedWithTheReason(string header, string reason)
        {
            var check = Verify(header, "POST", PostTarget, Body, T, Secret);
            Assert.False(check.IsValid);
            Assert.Contains(reason, check.Failure);
            Assert.DoesNotContain(Secret, check.Failure);
        }

        [Fact]
        public void UnusableV1sAreSkippedNotFatal()
        {
            Assert.True(Verify("t=1764417600,v1=zz,v0=abc,x=y,v1=" + PostV1, "POST", PostTarget, Body, T, Secret).IsValid);
        }

        [Fact]
        public void OverlongHeaderIsMalformed()
        {
            string header = "t=1764417600" + string.Concat(Enumerable.Repeat(",v1=" + PostV1, 130));
            Assert.Contains("longer than", Verify(header, "POST", PostTarget, Body, T, Secret).Failure);
        }

        // ---- events: X-Kentico-Signature, infra/kentico/signature-test-vector.md ----

        private const string EventBody =
            "{\"id\":\"9d7c3f0e-5b21-4e8a-a6f4-2c1b0e9d8a73\",\"type\":\"ecommerce.customer.created\",\"created\":1764417600,"
            + "\"site\":\"DancingGoat\",\"data\":{\"object\":{\"CustomerID\":77,\"CustomerGUID\":\"0b7f3a52-8f87-4c1e-b0a4-1d5c3e2f9a10\","
            + "\"CustomerEmail\":\"zoe@example.com\",\"CustomerFirstName\":\"Zo\u00eb\",\"CustomerLastName\":\"\u0141ukasiewicz\","
            + "\"CustomerPhone\":\"+44 20 7946 0000\",\"CustomerCompany\":\"Caf\u00e9 \\\"Moka\\\" & Co.\"}}}";

        [Fact]
        public void EventSignerReproducesTheK13Vector()
        {
            byte[] bytes = EventSigner.BodyBytes(EventBody);
            Assert.Equal(384, bytes.Length);
            Assert.Equal("8178053e07fc03737912dc5ffff86fe1bd4d16890e72b3492f55d059f2c94b9e", Sha256Hex(bytes));
            Assert.Equal("67ee13da03662577a993e9cbc2eb4b4852eb03ff36f0f1f8a23428f4931ea18c", EventSigner.ComputeSignature(Secret, T, bytes));
            Assert.Equal("t=1764417600,v1=67ee13da03662577a993e9cbc2eb4b4852eb03ff36f0f1f8a23428f4931ea18c"
                + ",v1=1ffd38599af30c487a5afb4906ab931e0a961b531dd423f7d848c48d27962252",
                EventSigner.BuildHeader(Both, T, bytes));
            Assert.Equal("X-Kentico-Signature", EventSigner.HeaderName);
        }

        [Fact]
        public void EventSignerMatchesPaybridgesDevFixtureSecret()
        {
            // The K13 module's signer and this one are the same scheme: any body, any secret.
            byte[] body = EventSigner.BodyBytes("{\"a\":\"\u00e9\"}");
            using (var h = new HMACSHA256(EventSigner.BodyBytes("kentico_local_dev_only_secret")))
            {
                string expected = BitConverter.ToString(h.ComputeHash(EventSigner.BodyBytes("1795963313.{\"a\":\"\u00e9\"}"))).Replace("-", "").ToLowerInvariant();
                Assert.Equal(expected, EventSigner.ComputeSignature("kentico_local_dev_only_secret", 1795963313, body));
            }
        }

        private static SignatureCheck Verify(string header, string method, string target, byte[] body, long now, params string[] secrets) =>
            RequestSignature.Verify(header, method, target, body, secrets, now);

        internal static string Sha256Hex(byte[] bytes)
        {
            using (var sha = SHA256.Create())
            {
                return BitConverter.ToString(sha.ComputeHash(bytes)).Replace("-", "").ToLowerInvariant();
            }
        }
    }
}
