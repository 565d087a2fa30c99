using System;
using System.Collections.Generic;

namespace Paybridge.Xperience
{
    /// <summary>
    /// The order's optional <c>PaybridgeData</c> text field: a JSON object with paybridge's keys
    /// (<c>paid</c>, <c>payment_reference</c>, and the write's <c>details</c>: <c>StripePaymentIntent</c>,
    /// <c>StripePaymentStatus</c>, <c>StripeCheckoutUrl</c>, <c>StripeDeclineReason</c>,
    /// <c>StripeRetryUrl</c>) next to whatever else the shop keeps there.
    /// </summary>
    public static class PaybridgeData
    {
        /// <summary>Field name on the order class (a text/long text field the shop adds).</summary>
        public const string FieldName = "PaybridgeData";
        public const string PaidKey = "paid";
        public const string PaymentReferenceKey = "payment_reference";

        /// <summary>
        /// Merges a write into the field's current text. paybridge's keys are replaced in place
        /// (matched without case, written in paybridge's spelling), new ones appended, other keys
        /// kept in their order; a null detail removes its key; <c>paid</c> and
        /// <c>payment_reference</c> are written only when not null. Returns the new compact JSON.
        /// </summary>
        /// <exception cref="FormatException">The current text is not a JSON object: it is not overwritten.</exception>
        public static string Merge(string current, bool? paid, string paymentReference, IEnumerable<KeyValuePair<string, string>> details)
        {
            JsonObject obj;
            if (string.IsNullOrWhiteSpace(current))
            {
                obj = new JsonObject();
            }
            else
            {
                object parsed;
                try
                {
                    parsed = JsonReader.Parse(current);
                }
                catch (JsonFormatException ex)
                {
                    throw new FormatException("The order's " + FieldName + " is not a JSON object (" + ex.Message + "); it is left as it is.");
                }
                obj = parsed as JsonObject;
                if (obj == null) throw new FormatException("The order's " + FieldName + " is not a JSON object; it is left as it is.");
            }

            if (paid.HasValue) Set(obj, PaidKey, paid.Value);
            if (paymentReference != null) Set(obj, PaymentReferenceKey, paymentReference);
            if (details != null)
            {
                foreach (var pair in details)
                {
                    if (pair.Value == null) Remove(obj, pair.Key);
                    else Set(obj, pair.Key, pair.Value);
                }
            }
            return new JsonWriter().Raw(obj).ToString();
        }

        private static void Set(JsonObject obj, string key, object value)
        {
            int i = obj.IndexOf(key, StringComparison.OrdinalIgnoreCase);
            if (i >= 0)
            {
                obj.ReplaceAt(i, key, value);
                // A second spelling of the same key (e.g. written by hand) would shadow ours.
                int dup;
                while ((dup = IndexAfter(obj, key, i)) >= 0) obj.RemoveAt(dup);
            }
            else
            {
                obj.TryAdd(key, value);
            }
        }

        private static void Remove(JsonObject obj, string key)
        {
            int i;
            while ((i = obj.IndexOf(key, StringComparison.OrdinalIgnoreCase)) >= 0) obj.RemoveAt(i);
        }

        private static int IndexAfter(JsonObject obj, string key, int after)
        {
            int index = 0;
            foreach (var pair in obj)
            {
                if (index > after && string.Equals(pair.Key, key, StringComparison.OrdinalIgnoreCase)) return index;
                index++;
            }
            return -1;
        }
    }
}
