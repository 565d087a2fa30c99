using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Paybridge.Xperience
{
    /// <summary>The outcome of <see cref="RequestSignature.Verify"/>: valid, or why not.</summary>
    public sealed class SignatureCheck
    {
        private SignatureCheck(bool valid, string failure)
        {
            IsValid = valid;
            Failure = failure;
        }

        public bool IsValid { get; private set; }

        /// <summary>Which check failed, in words safe to send back (never a secret or an expected MAC).</summary>
        public string Failure { get; private set; }

        internal static readonly SignatureCheck Valid = new SignatureCheck(true, null);

        internal static SignatureCheck Fail(string failure) => new SignatureCheck(false, failure);
    }

    /// <summary>
    /// The signature paybridge puts on every request to the package's routes
    /// (docs/CONTRACTS.md, "Xperience by Kentico order endpoints", Request signature):
    /// <c>X-Paybridge-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex&gt;[,v1=&lt;hex&gt;…]</c>, where each
    /// <c>v1</c> is the lower-case hex HMAC-SHA256, key = the secret's UTF-8 bytes, of
    /// <c>&lt;t&gt;.&lt;METHOD&gt; &lt;path-and-query&gt;.&lt;body&gt;</c>: the ASCII decimal timestamp, a dot,
    /// the upper-case method, one space, the request target exactly as on the wire, a dot, the raw
    /// body bytes (empty for a GET, whose message therefore ends with the dot).
    /// </summary>
    /// <remarks>
    /// Binding the method and the request target (path with its percent-encoding, then
    /// <c>?query</c>) means a signature for one order or route cannot be replayed against another;
    /// the timestamp limits a replay of the same request to the tolerance window, and the
    /// write-back's event id makes such a replay a no-op. Header parsing follows paybridge's own
    /// verifier: comma-separated <c>name=value</c> parts, spaces around a part ignored; exactly one
    /// integer <c>t</c>; <c>v1</c> values that are not 64 hex digits are skipped; other names ignored.
    /// </remarks>
    public static class RequestSignature
    {
        public const string HeaderName = "X-Paybridge-Signature";

        /// <summary>Accepted clock difference, either direction, in seconds.</summary>
        public const long ToleranceSeconds = 300;

        /// <summary>Longest header accepted (as paybridge's ingress).</summary>
        public const int MaxHeaderLength = 8192;

        /// <summary>The lower-case hex MAC of one request under one secret.</summary>
        public static string ComputeSignature(string secret, long timestamp, string method, string pathAndQuery, byte[] body)
        {
            return Hmac.ToLowerHex(Mac(secret, timestamp, method, pathAndQuery, body));
        }

        /// <summary>The header value paybridge sends: one <c>v1</c> per secret, in order.</summary>
        public static string BuildHeader(IEnumerable<string> secrets, long timestamp, string method, string pathAndQuery, byte[] body)
        {
            if (secrets == null) throw new ArgumentNullException(nameof(secrets));
            var header = new StringBuilder("t=").Append(timestamp.ToString(CultureInfo.InvariantCulture));
            int count = 0;
            foreach (string secret in secrets)
            {
                header.Append(",v1=").Append(ComputeSignature(secret, timestamp, method, pathAndQuery, body));
                count++;
            }
            if (count == 0) throw new ArgumentException("At least one secret is required.", nameof(secrets));
            return header.ToString();
        }

        /// <summary>
        /// Checks a request: the header is present and well-formed, <c>t</c> is within
        /// <see cref="ToleranceSeconds"/> of <paramref name="nowUnixSeconds"/> (checked before any
        /// MAC), and some <c>v1</c> equals the MAC under some secret. Every pair is compared, in
        /// constant time, so the time taken does not tell which secret or byte matched.
        /// </summary>
        /// <param name="header">The <c>X-Paybridge-Signature</c> value; null or empty when absent.</param>
        /// <param name="method">The request method (compared upper-cased).</param>
        /// <param name="pathAndQuery">The request target exactly as received: raw path, then <c>?query</c>.</param>
        /// <param name="body">The raw body bytes (empty for a GET).</param>
        public static SignatureCheck Verify(string header, string method, string pathAndQuery, byte[] body,
            IEnumerable<string> secrets, long nowUnixSeconds)
        {
            if (secrets == null) throw new ArgumentNullException(nameof(secrets));
            if (string.IsNullOrWhiteSpace(header))
            {
                return SignatureCheck.Fail("the " + HeaderName + " header is missing");
            }
            if (header.Length > MaxHeaderLength)
            {
                return SignatureCheck.Fail("the " + HeaderName + " header is malformed: longer than " + MaxHeaderLength + " characters");
            }

            long? t = null;
            var candidates = new List<byte[]>();
            foreach (string rawPart in header.Split(','))
            {
                string part = rawPart.Trim();
                int eq = part.IndexOf('=');
                if (eq <= 0) continue;
                string name = part.Substring(0, eq).Trim();
                string value = part.Substring(eq + 1).Trim();
                if (name == "t")
                {
                    if (t.HasValue)
                    {
                        return SignatureCheck.Fail("the " + HeaderName + " header is malformed: more than one t");
                    }
                    long parsed;
                    if (!IsAsciiDigits(value) || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out parsed))
                    {
                        return SignatureCheck.Fail("the " + HeaderName + " header is malformed: t is not an integer");
                    }
                    t = parsed;
                }
                else if (name == "v1")
                {
                    byte[] mac = Hmac.FromHex64(value);
                    if (mac != null) candidates.Add(mac); // anything but 64 hex digits is skipped
                }
            }
            if (!t.HasValue)
            {
                return SignatureCheck.Fail("the " + HeaderName + " header is malformed: no t");
            }
            if (candidates.Count == 0)
            {
                return SignatureCheck.Fail("the " + HeaderName + " header is malformed: no v1 of 64 hex digits");
            }

            long age = nowUnixSeconds - t.Value;
            if (age > ToleranceSeconds)
            {
                return SignatureCheck.Fail("the timestamp is outside the tolerance: " + age.ToString(CultureInfo.InvariantCulture)
                    + " s old (at most " + ToleranceSeconds + " s; check both clocks)");
            }
            if (-age > ToleranceSeconds)
            {
                return SignatureCheck.Fail("the timestamp is outside the tolerance: " + (-age).ToString(CultureInfo.InvariantCulture)
                    + " s in the future (at most " + ToleranceSeconds + " s; check both clocks)");
            }

            bool match = false;
            int secretCount = 0;
            foreach (string secret in secrets)
            {
                secretCount++;
                byte[] expected = Mac(secret, t.Value, method, pathAndQuery, body);
                foreach (byte[] candidate in candidates)
                {
                    // No early exit: every pair is compared.
                    match |= Hmac.FixedTimeEquals(expected, candidate);
                }
            }
            if (secretCount == 0) throw new ArgumentException("At least one secret is required.", nameof(secrets));
            return match
                ? SignatureCheck.Valid
                : SignatureCheck.Fail("no matching signature: no v1 matches this method, path, query and body under any configured secret");
        }

        private static byte[] Mac(string secret, long timestamp, string method, string pathAndQuery, byte[] body)
        {
            if (method == null) throw new ArgumentNullException(nameof(method));
            if (pathAndQuery == null) throw new ArgumentNullException(nameof(pathAndQuery));
            byte[] prefix = Hmac.Utf8NoBom.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + "."
                + method.ToUpperInvariant() + " " + pathAndQuery + ".");
            return Hmac.Compute(secret, prefix, body ?? new byte[0]);
        }

        private static bool IsAsciiDigits(string value)
        {
            if (value.Length == 0 || value.Length > 18) return false;
            foreach (char c in value)
            {
                if (c < '0' || c > '9') return false;
            }
            return true;
        }
    }
}
