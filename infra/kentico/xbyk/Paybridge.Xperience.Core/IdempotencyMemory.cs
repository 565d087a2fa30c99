using System;
using System.Collections.Generic;

namespace Paybridge.Xperience
{
    /// <summary>
    /// Remembers the answers of applied write-backs by <c>event_id</c>, in memory, bounded.
    /// </summary>
    /// <remarks>
    /// An id is kept while it is among the newest <see cref="MinEntries"/> (10,000) or younger than
    /// <see cref="Retention"/> (24 h), whichever keeps it longer, up to a hard cap of
    /// <see cref="MaxEntries"/> (100,000) that bounds the memory whatever the traffic. Nothing is
    /// persisted: after a restart a repeated write is applied again, which is harmless because a
    /// status the order already has changes nothing and fires no notification. Thread-safe.
    /// </remarks>
    public sealed class IdempotencyMemory
    {
        private readonly object gate = new object();
        private readonly Dictionary<string, Entry> entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        private readonly Queue<Entry> order = new Queue<Entry>();
        private readonly Func<DateTime> utcNow;

        private sealed class Entry
        {
            public string Key;
            public DateTime AddedUtc;
            public WriteBackAnswer Answer;
        }

        public IdempotencyMemory() : this(10000, TimeSpan.FromHours(24), 100000, () => DateTime.UtcNow) { }

        public IdempotencyMemory(int minEntries, TimeSpan retention, int maxEntries, Func<DateTime> utcNow)
        {
            if (minEntries < 1 || maxEntries < minEntries) throw new ArgumentOutOfRangeException(nameof(maxEntries));
            MinEntries = minEntries;
            Retention = retention;
            MaxEntries = maxEntries;
            this.utcNow = utcNow ?? (() => DateTime.UtcNow);
        }

        public int MinEntries { get; private set; }
        public TimeSpan Retention { get; private set; }
        public int MaxEntries { get; private set; }

        public int Count
        {
            get { lock (gate) { return entries.Count; } }
        }

        /// <summary>The first answer given for <paramref name="eventId"/>, or null.</summary>
        public WriteBackAnswer Find(string eventId)
        {
            lock (gate)
            {
                Entry e;
                return entries.TryGetValue(eventId, out e) ? e.Answer : null;
            }
        }

        /// <summary>Remembers the answer of an applied write; an id already known keeps its first answer.</summary>
        public void Remember(string eventId, WriteBackAnswer answer)
        {
            lock (gate)
            {
                if (entries.ContainsKey(eventId)) return;
                var now = utcNow();
                var e = new Entry { Key = eventId, AddedUtc = now, Answer = answer };
                entries.Add(eventId, e);
                order.Enqueue(e);
                while (order.Count > MaxEntries
                    || (order.Count > MinEntries && now - order.Peek().AddedUtc > Retention))
                {
                    entries.Remove(order.Dequeue().Key);
                }
            }
        }
    }
}
