using System;
using System.Collections.Generic;
using System.Globalization;

namespace Paybridge.Xperience
{
    /// <summary>
    /// The body of <c>POST /paybridge/orders/{orderGuid}/status</c>:
    /// <c>{"event_id":…,"status":…,"paid":…,"payment_reference":…,"details":{…}}</c>.
    /// </summary>
    public sealed class WriteBackRequest
    {
        /// <summary>Largest body accepted, in bytes.</summary>
        public const int MaxBodyBytes = 64 * 1024;
        public const int MaxEventIdLength = 200;

        /// <summary>The write's idempotency key, 1–200 characters.</summary>
        public string EventId { get; private set; }

        /// <summary>A status code name or display name; null leaves the status alone.</summary>
        public string Status { get; private set; }

        /// <summary>Whether a payment succeeded; null when not said.</summary>
        public bool? Paid { get; private set; }

        /// <summary>The PaymentIntent id; null when not said.</summary>
        public string PaymentReference { get; private set; }

        /// <summary>paybridge's keys for <c>PaybridgeData</c>, in the order sent; a null value removes the key.</summary>
        public IReadOnlyList<KeyValuePair<string, string>> Details { get; private set; } = new KeyValuePair<string, string>[0];

        /// <summary>
        /// Parses and checks a body; on failure returns null and a message for
        /// <c>400 {"error":"bad_request","message":…}</c>. Unknown fields are ignored.
        /// </summary>
        public static WriteBackRequest Parse(byte[] body, out string error)
        {
            error = null;
            if (body == null || body.Length == 0)
            {
                error = "the body is empty; a JSON object is expected";
                return null;
            }
            if (body.Length > MaxBodyBytes)
            {
                error = "the body is larger than the limit of " + MaxBodyBytes.ToString(CultureInfo.InvariantCulture) + " bytes";
                return null;
            }

            object root;
            try
            {
                root = JsonReader.Parse(body);
            }
            catch (JsonFormatException ex)
            {
                error = "the body is not valid JSON: " + ex.Message;
                return null;
            }
            var obj = root as JsonObject;
            if (obj == null)
            {
                error = "the body is not a JSON object";
                return null;
            }

            var r = new WriteBackRequest();
            object value;

            if (!obj.TryGetValue("event_id", out value) || value == null)
            {
                error = "event_id is missing";
                return null;
            }
            var eventId = value as string;
            if (eventId == null)
            {
                error = "event_id must be a string";
                return null;
            }
            int length = CodePoints(eventId);
            if (length < 1 || length > MaxEventIdLength)
            {
                error = "event_id must have 1 to " + MaxEventIdLength + " characters";
                return null;
            }
            r.EventId = eventId;

            if (!OptionalString(obj, "status", out value, out error)) return null;
            r.Status = (string)value; // "" is a name like any other: unknown, so 422

            if (obj.TryGetValue("paid", out value) && value != null)
            {
                if (!(value is bool))
                {
                    error = "paid must be true, false or null";
                    return null;
                }
                r.Paid = (bool)value;
            }

            if (!OptionalString(obj, "payment_reference", out value, out error)) return null;
            r.PaymentReference = (string)value;

            if (obj.TryGetValue("details", out value) && value != null)
            {
                var details = value as JsonObject;
                if (details == null)
                {
                    error = "details must be an object of strings (or null values)";
                    return null;
                }
                var list = new List<KeyValuePair<string, string>>();
                foreach (var pair in details)
                {
                    if (pair.Key.Length == 0)
                    {
                        error = "details has an empty key";
                        return null;
                    }
                    if (pair.Value != null && !(pair.Value is string))
                    {
                        error = "details." + pair.Key + " must be a string or null";
                        return null;
                    }
                    list.Add(new KeyValuePair<string, string>(pair.Key, (string)pair.Value));
                }
                r.Details = list;
            }
            return r;
        }

        private static bool OptionalString(JsonObject obj, string name, out object value, out string error)
        {
            error = null;
            if (!obj.TryGetValue(name, out value) || value == null)
            {
                value = null;
                return true;
            }
            if (value is string) return true;
            error = name + " must be a string or null";
            value = null;
            return false;
        }

        // Characters as paybridge counts them (Unicode scalar values), not UTF-16 code units.
        private static int CodePoints(string s)
        {
            int n = 0;
            foreach (char c in s)
            {
                if (!char.IsLowSurrogate(c)) n++;
            }
            return n;
        }
    }
}
