using System;
using System.Collections.Generic;
using System.Globalization;

namespace Paybridge.Xperience
{
    /// <summary>The parameters of <c>GET /paybridge/orders?modified_since=…&amp;after_id=…&amp;limit=…</c>.</summary>
    public sealed class OrderListQuery
    {
        public const int DefaultLimit = 100;
        public const int MaxLimit = 100;

        /// <summary>Orders with <c>OrderModifiedWhen</c> at or after this instant (UTC).</summary>
        public DateTime ModifiedSinceUtc { get; internal set; }

        /// <summary>Orders with <c>OrderID</c> greater than this (default 0).</summary>
        public int AfterId { get; internal set; }

        /// <summary>At most this many orders (1–100, default 100), by <c>OrderID</c> ascending.</summary>
        public int Limit { get; internal set; } = DefaultLimit;
    }

    /// <summary>Parsing of route values and query strings; failures become <c>400 bad_request</c>.</summary>
    public static class RouteParsing
    {
        /// <summary>
        /// The <c>{orderGuid}</c> of a route: the dashed form, any case, with or without braces.
        /// The undashed form and anything else are refused.
        /// </summary>
        public static bool TryParseOrderGuid(string value, out Guid guid, out string error)
        {
            guid = Guid.Empty;
            error = null;
            string v = value == null ? string.Empty : value.Trim();
            if (Guid.TryParseExact(v, "D", out guid) || Guid.TryParseExact(v, "B", out guid))
            {
                return true;
            }
            error = "'" + Truncate(value, 100) + "' is not an order GUID (expected the dashed form, e.g. 2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a29)";
            return false;
        }

        /// <summary>
        /// Parses the query string of the order list (with or without the leading <c>?</c>).
        /// <c>modified_since</c> (RFC 3339) is required; <c>after_id</c> (≥ 0) and <c>limit</c>
        /// (1–100) are optional; names are matched without case; other parameters are ignored; a
        /// parameter given twice is refused.
        /// </summary>
        public static OrderListQuery ParseListQuery(string queryString, out string error)
        {
            error = null;
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            // Names are matched without case, as paybridge's fake of this package does.
            string q = queryString ?? string.Empty;
            if (q.StartsWith("?", StringComparison.Ordinal)) q = q.Substring(1);
            foreach (string part in q.Split('&'))
            {
                if (part.Length == 0) continue;
                int eq = part.IndexOf('=');
                string name = Decode(eq < 0 ? part : part.Substring(0, eq));
                if (name != null) name = name.ToLowerInvariant();
                string value = eq < 0 ? string.Empty : Decode(part.Substring(eq + 1));
                if (name == null || value == null)
                {
                    error = "the query string has a malformed percent-encoding";
                    return null;
                }
                if (name != "modified_since" && name != "after_id" && name != "limit") continue;
                if (values.ContainsKey(name))
                {
                    error = name + " is given more than once";
                    return null;
                }
                values.Add(name, value);
            }

            var result = new OrderListQuery();
            string raw;
            if (!values.TryGetValue("modified_since", out raw) || raw.Length == 0)
            {
                error = "modified_since is missing (an RFC 3339 date-time, e.g. 2026-11-30T12:00:00Z)";
                return null;
            }
            DateTime since;
            if (!TryParseRfc3339(raw, out since))
            {
                error = "modified_since '" + Truncate(raw, 60) + "' is not an RFC 3339 date-time (e.g. 2026-11-30T12:00:00Z)";
                return null;
            }
            result.ModifiedSinceUtc = since;

            if (values.TryGetValue("after_id", out raw))
            {
                int afterId;
                if (!IsDigits(raw) || !int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out afterId))
                {
                    error = "after_id must be a whole number of at least 0";
                    return null;
                }
                result.AfterId = afterId;
            }

            if (values.TryGetValue("limit", out raw))
            {
                int limit;
                if (!IsDigits(raw) || !int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out limit)
                    || limit < 1 || limit > OrderListQuery.MaxLimit)
                {
                    error = "limit must be a whole number from 1 to " + OrderListQuery.MaxLimit;
                    return null;
                }
                result.Limit = limit;
            }
            return result;
        }

        /// <summary>
        /// RFC 3339 date-time: <c>yyyy-MM-ddTHH:mm:ss[.fraction](Z|±hh:mm)</c> (T and Z in either
        /// case); returns UTC (Kind Utc). A time without an offset is refused.
        /// </summary>
        public static bool TryParseRfc3339(string value, out DateTime utc)
        {
            utc = DateTime.MinValue;
            if (value == null || value.Length < 20 || value.Length > 40) return false;
            string v = value;
            if (v[10] != 'T' && v[10] != 't') return false;
            v = v.Substring(0, 10) + "T" + v.Substring(11);
            char last = v[v.Length - 1];
            if (last == 'z' || last == 'Z') v = v.Substring(0, v.Length - 1) + "+00:00";
            string[] formats =
            {
                "yyyy'-'MM'-'dd'T'HH':'mm':'ssK",
                "yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFFK",
            };
            // Fractions longer than 7 digits are valid RFC 3339 but beyond .NET: trim them.
            int dot = v.IndexOf('.');
            if (dot > 0)
            {
                int end = dot + 1;
                while (end < v.Length && v[end] >= '0' && v[end] <= '9') end++;
                if (end == dot + 1) return false;
                if (end - dot - 1 > 7) v = v.Substring(0, dot + 8) + v.Substring(end);
            }
            if (!v.EndsWith("+00:00", StringComparison.Ordinal) && !HasOffset(v)) return false;
            DateTimeOffset parsed;
            if (!DateTimeOffset.TryParseExact(v, formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out parsed)) return false;
            utc = parsed.UtcDateTime;
            return true;
        }

        private static bool HasOffset(string v)
        {
            if (v.Length < 6) return false;
            string tail = v.Substring(v.Length - 6);
            return (tail[0] == '+' || tail[0] == '-') && char.IsDigit(tail[1]) && char.IsDigit(tail[2])
                && tail[3] == ':' && char.IsDigit(tail[4]) && char.IsDigit(tail[5]);
        }

        private static string Decode(string s)
        {
            try
            {
                return Uri.UnescapeDataString(s.Replace('+', ' '));
            }
            catch (UriFormatException)
            {
                return null;
            }
        }

        private static bool IsDigits(string s)
        {
            if (s.Length == 0 || s.Length > 10) return false;
            foreach (char c in s)
            {
                if (c < '0' || c > '9') return false;
            }
            return true;
        }

        /// <summary>
        /// The request target paybridge signed (<c>&lt;path-and-query&gt;</c> of the signature):
        /// the target as received on the wire (<paramref name="rawTarget"/>, e.g. Kestrel's and
        /// IIS's <c>IHttpRequestFeature.RawTarget</c>, which keeps the path's percent-encoding);
        /// when the app has a base path (<paramref name="pathBase"/>) that the raw target lacks,
        /// because a proxy in front removed it and handed it over as <c>X-Forwarded-Prefix</c>,
        /// the base path is put back in front, since paybridge signed <c>{KENTICO_BASE_URL}/paybridge/…</c>.
        /// Without a usable raw target (a server that gives none, or an absolute-form target), it
        /// is rebuilt from the escaped <paramref name="pathBase"/>, <paramref name="path"/> and
        /// <paramref name="queryString"/> (the latter with its <c>?</c>, or empty).
        /// </summary>
        public static string RequestTarget(string rawTarget, string pathBase, string path, string queryString)
        {
            pathBase = (pathBase ?? string.Empty).TrimEnd('/');
            if (!string.IsNullOrEmpty(rawTarget) && rawTarget[0] == '/')
            {
                if (pathBase.Length == 0 || StartsWithSegment(rawTarget, pathBase)) return rawTarget;
                return pathBase + rawTarget;
            }
            return pathBase + (path ?? string.Empty) + (queryString ?? string.Empty);
        }

        // "/shop/x", "/shop?q", "/shop" start with the segment "/shop"; "/shopx" does not. Without
        // case, as ASP.NET Core matches a base path.
        private static bool StartsWithSegment(string target, string segment)
        {
            if (!target.StartsWith(segment, StringComparison.OrdinalIgnoreCase)) return false;
            if (target.Length == segment.Length) return true;
            char next = target[segment.Length];
            return next == '/' || next == '?';
        }

        private static string Truncate(string s, int max) =>
            s == null ? string.Empty : s.Length <= max ? s : s.Substring(0, max) + "…";
    }
}
