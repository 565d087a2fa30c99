using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Paybridge.Xperience
{
    /// <summary>
    /// Signs the events the package sends to paybridge, exactly as the Kentico 13 module's
    /// <c>WebhookSigner</c> does (docs/CONTRACTS.md, Signature scheme; Stripe's scheme):
    /// <c>X-Kentico-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256(secret, "&lt;t&gt;.&lt;raw body&gt;")&gt;[,v1=…]</c>.
    /// </summary>
    /// <remarks>
    /// The secret is used as its UTF-8 bytes as configured; the MAC covers the exact bytes sent
    /// (sign the byte[] that goes on the wire); the hex is lower-case; the timestamp is taken at
    /// send time, so each retry is signed afresh while the body and its event id never change.
    /// infra/kentico/signature-test-vector.md is the worked example the tests reproduce.
    /// </remarks>
    public static class EventSigner
    {
        public const string HeaderName = "X-Kentico-Signature";

        /// <summary>The UTF-8 bytes (no BOM) of a JSON body: what is signed and sent.</summary>
        public static byte[] BodyBytes(string json) => Hmac.Utf8NoBom.GetBytes(json);

        /// <summary>Current Unix time in seconds.</summary>
        public static long UnixNow() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        /// <summary>The lower-case hex HMAC-SHA256 of "&lt;timestamp&gt;.&lt;body&gt;" under <paramref name="secret"/>.</summary>
        public static string ComputeSignature(string secret, long timestamp, byte[] body)
        {
            if (body == null) throw new ArgumentNullException(nameof(body));
            byte[] prefix = Hmac.Utf8NoBom.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
            return Hmac.ToLowerHex(Hmac.Compute(secret, prefix, body));
        }

        /// <summary>
        /// The header value: one <c>v1</c> per secret, in the configured order. During a rotation
        /// configure both secrets; paybridge accepts a request if any <c>v1</c> matches any of its secrets.
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
    }

    /// <summary>HMAC-SHA256 and hex helpers shared by <see cref="EventSigner"/> and <see cref="RequestSignature"/>.</summary>
    internal static class Hmac
    {
        internal static readonly UTF8Encoding Utf8NoBom = new UTF8Encoding(false);

        /// <summary>HMAC-SHA256 under the secret's UTF-8 bytes of the concatenation of <paramref name="parts"/>.</summary>
        internal static byte[] Compute(string secret, params byte[][] parts)
        {
            if (secret == null) throw new ArgumentNullException(nameof(secret));
            using (var hmac = new HMACSHA256(Utf8NoBom.GetBytes(secret)))
            {
                for (int p = 0; p < parts.Length - 1; p++)
                {
                    hmac.TransformBlock(parts[p], 0, parts[p].Length, null, 0);
                }
                byte[] last = parts.Length == 0 ? new byte[0] : parts[parts.Length - 1];
                hmac.TransformFinalBlock(last, 0, last.Length);
                return hmac.Hash;
            }
        }

        internal static string ToLowerHex(byte[] bytes)
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

        /// <summary>Decodes 64 hex digits (either case) into 32 bytes; null when it is anything else.</summary>
        internal static byte[] FromHex64(string hex)
        {
            if (hex == null || hex.Length != 64) return null;
            var bytes = new byte[32];
            for (int i = 0; i < 32; i++)
            {
                int hi = HexDigit(hex[2 * i]);
                int lo = HexDigit(hex[2 * i + 1]);
                if (hi < 0 || lo < 0) return null;
                bytes[i] = (byte)((hi << 4) | lo);
            }
            return bytes;
        }

        /// <summary>Compares two byte arrays in time that does not depend on where they differ.</summary>
        internal static bool FixedTimeEquals(byte[] a, byte[] b)
        {
            if (a == null || b == null || a.Length != b.Length) return false;
            int diff = 0;
            for (int i = 0; i < a.Length; i++) diff |= a[i] ^ b[i];
            return diff == 0;
        }

        private static int HexDigit(char c)
        {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        }
    }
}
