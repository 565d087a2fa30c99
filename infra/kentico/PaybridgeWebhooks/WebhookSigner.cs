using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Paybridge.Webhooks
{
    /// <summary>
    /// Signs webhook bodies the way paybridge verifies them (docs/CONTRACTS.md, Signature scheme; Stripe's scheme):
    /// <c>X-Kentico-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256(secret, "&lt;t&gt;.&lt;raw body&gt;")&gt;[,v1=…]</c>.
    /// </summary>
    /// <remarks>
    /// Kentico-free on purpose, so a unit test can compile this file alone against
    /// signature-test-vector.md. Things that break interoperability, and why this code is as it is:
    /// <list type="bullet">
    /// <item>The secret is used as its UTF-8 bytes, exactly as configured (no Base64 decoding, no
    /// prefix stripping) — paybridge does the same.</item>
    /// <item>The MAC covers the exact bytes that go on the wire: sign the byte[] you send, never a
    /// string re-encoded later (a BOM or a different encoding changes the MAC).</item>
    /// <item>The hex digest is lower-case; paybridge decodes either case, but tests compare strings.</item>
    /// <item>The timestamp is taken at send time, so each retry is signed afresh: paybridge refuses
    /// signatures older than 300 s, while the body (and its event id) never changes.</item>
    /// </list>
    /// </remarks>
    public static class WebhookSigner
    {
        public const string HeaderName = "X-Kentico-Signature";

        private static readonly UTF8Encoding Utf8NoBom = new UTF8Encoding(false);

        /// <summary>The UTF-8 bytes (no BOM) of a JSON body: what is signed and sent.</summary>
        public static byte[] BodyBytes(string json) => Utf8NoBom.GetBytes(json);

        /// <summary>Current Unix time in seconds.</summary>
        public static long UnixNow() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        /// <summary>The lower-case hex HMAC-SHA256 of "&lt;timestamp&gt;.&lt;body&gt;" under <paramref name="secret"/>.</summary>
        public static string ComputeSignature(string secret, long timestamp, byte[] body)
        {
            if (secret == null) throw new ArgumentNullException(nameof(secret));
            if (body == null) throw new ArgumentNullException(nameof(body));

            byte[] prefix = Utf8NoBom.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
            using (var hmac = new HMACSHA256(Utf8NoBom.GetBytes(secret)))
            {
                hmac.TransformBlock(prefix, 0, prefix.Length, null, 0);
                hmac.TransformFinalBlock(body, 0, body.Length);
                return ToLowerHex(hmac.Hash);
            }
        }

        /// <summary>
        /// The header value: one <c>v1</c> per secret. During a rotation configure both the old and
        /// the new secret; paybridge accepts the request if any <c>v1</c> matches any of its secrets.
        /// </summary>
        public static string BuildHeader(IEnumerable<string> secrets, long timestamp, byte[] body)
        {
            if (secrets == null) throw new ArgumentNullException(nameof(secrets));

            var header = new StringBuilder("t=").Append(timestamp.ToString(CultureInfo.InvariantCulture));
            int count = 0;
            foreach (string secret in secrets)
            {
                header.Append(",v1=").Append(ComputeSignature(secret, timestamp, body));
                count++;
            }
            if (count == 0) throw new ArgumentException("At least one secret is required.", nameof(secrets));
            return header.ToString();
        }

        private static string ToLowerHex(byte[] bytes)
        {
            const string digits = "0123456789abcdef";
            var chars = new char[bytes.Length * 2];
            for (int i = 0; i < bytes.Length; i++)
            {
                chars[2 * i] = digits[bytes[i] >> 4];
                chars[2 * i + 1] = digits[bytes[i] & 0xF];
            }
            return new string(chars);
        }
    }
}
