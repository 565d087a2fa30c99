using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Paybridge.Webhooks
{
    /// <summary>
    /// A minimal, allocation-light JSON writer producing compact JSON (no whitespace).
    /// </summary>
    /// <remarks>
    /// Deliberately self-contained (no Newtonsoft.Json / System.Text.Json): the module must not fight
    /// the Kentico solution's binding redirects, and the exact bytes we sign must not depend on a
    /// serializer's settings or version. Kentico-free, so the test project can compile it alone.
    /// </remarks>
    public sealed class JsonWriter
    {
        // Money keeps at least two decimals and never rounds: Kentico stores decimal(18,9), so
        // 129.900000000 becomes "129.90" and 0.123456789 stays "0.123456789".
        private static readonly string MoneyFormat = "0.00" + new string('#', 26);

        private readonly StringBuilder sb = new StringBuilder(1024);
        // One entry per open object/array: true while nothing has been written into it yet.
        private readonly Stack<bool> first = new Stack<bool>();
        private bool afterName;

        public JsonWriter BeginObject() { Prefix(); sb.Append('{'); first.Push(true); return this; }
        public JsonWriter EndObject() { first.Pop(); sb.Append('}'); return this; }
        public JsonWriter BeginArray() { Prefix(); sb.Append('['); first.Push(true); return this; }
        public JsonWriter EndArray() { first.Pop(); sb.Append(']'); return this; }

        /// <summary>Writes a property name; the next call writes its value.</summary>
        public JsonWriter Name(string name)
        {
            Prefix();
            WriteString(name);
            sb.Append(':');
            afterName = true;
            return this;
        }

        /// <summary>A string value; null is written as JSON null.</summary>
        public JsonWriter Value(string value)
        {
            Prefix();
            if (value == null) sb.Append("null"); else WriteString(value);
            return this;
        }

        public JsonWriter Value(long value)
        {
            Prefix();
            sb.Append(value.ToString(CultureInfo.InvariantCulture));
            return this;
        }

        public JsonWriter Value(bool value)
        {
            Prefix();
            sb.Append(value ? "true" : "false");
            return this;
        }

        public JsonWriter Null()
        {
            Prefix();
            sb.Append("null");
            return this;
        }

        /// <summary>A money amount as a decimal string in the invariant culture ("1234.50").</summary>
        public JsonWriter Money(decimal value) => Value(FormatMoney(value));

        /// <summary>A GUID in the dashed, lower-case "D" form paybridge expects.</summary>
        public JsonWriter Value(Guid value) => Value(value.ToString("D"));

        /// <summary>A timestamp as ISO 8601 UTC with second precision ("2026-11-29T12:00:00Z").</summary>
        public JsonWriter UtcTimestamp(DateTime utc) =>
            Value(utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));

        public static string FormatMoney(decimal value) =>
            value.ToString(MoneyFormat, CultureInfo.InvariantCulture);

        public override string ToString()
        {
            if (first.Count != 0) throw new InvalidOperationException("Unclosed JSON object or array.");
            return sb.ToString();
        }

        // Writes the separating comma when a value or name follows another one in the same container.
        private void Prefix()
        {
            if (afterName) { afterName = false; return; }
            if (first.Count == 0) return;
            if (first.Peek()) { first.Pop(); first.Push(false); }
            else sb.Append(',');
        }

        // RFC 8259 escaping. Non-ASCII text stays as is: the body is sent as UTF-8.
        private void WriteString(string s)
        {
            sb.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    case '\b': sb.Append("\\b"); break;
                    case '\f': sb.Append("\\f"); break;
                    default:
                        // Control characters, and U+2028/U+2029 which break some JavaScript consumers.
                        if (c < 0x20 || c == '\u2028' || c == '\u2029')
                        {
                            sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        }
                        else
                        {
                            sb.Append(c);
                        }
                        break;
                }
            }
            sb.Append('"');
        }
    }
}
