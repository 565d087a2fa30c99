using System;
using System.Collections.Generic;
using System.Linq;

namespace Paybridge.Xperience
{
    public enum ObjectKind { Order, Customer }

    /// <summary>An object whose event is due: build it from the object's current state.</summary>
    public sealed class DueChange
    {
        public ObjectKind Kind;
        public int ObjectId;
        /// <summary>Any merged save was an insert: the event is <c>…created</c>.</summary>
        public bool Inserted;
        /// <summary>How many times the object was not found when building (transaction not visible yet, rolled back).</summary>
        public int NotFound;

        public override string ToString() => Kind + " " + ObjectId;
    }

    /// <summary>
    /// Merges change notices per object, so a burst of saves becomes one event carrying the final
    /// state (the Kentico 13 module's rule). Thread-safe: object event handlers call
    /// <see cref="Notify"/> on request threads; the background worker calls <see cref="TakeDue"/>.
    /// </summary>
    /// <remarks>
    /// Timing: an update is due after a quiet period (<see cref="Debounce"/>, 2 s), at most
    /// <see cref="MaxDelay"/> (30 s) after its first notice. A new order is due only when the
    /// shop's checkout says it is complete (<c>committed</c>: its items and addresses are saved),
    /// or <see cref="InsertGrace"/> (30 s) after the insert for orders created elsewhere: XbyK
    /// raises the order's insert event before the checkout code has saved its items and addresses.
    /// </remarks>
    public sealed class ChangeQueue
    {
        public const int MaxNotFound = 20;
        private static readonly TimeSpan NotFoundRetry = TimeSpan.FromSeconds(3);

        private readonly object gate = new object();
        private readonly Dictionary<string, Pending> pending = new Dictionary<string, Pending>(StringComparer.Ordinal);

        private sealed class Pending
        {
            public DueChange Change;
            public bool Committed;
            public DateTime FirstSeenUtc;
            public DateTime DueUtc;
        }

        public ChangeQueue() : this(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)) { }

        public ChangeQueue(TimeSpan debounce, TimeSpan maxDelay, TimeSpan insertGrace)
        {
            Debounce = debounce;
            MaxDelay = maxDelay;
            InsertGrace = insertGrace;
        }

        public TimeSpan Debounce { get; private set; }
        public TimeSpan MaxDelay { get; private set; }
        public TimeSpan InsertGrace { get; private set; }

        public int Count
        {
            get { lock (gate) { return pending.Count; } }
        }

        /// <param name="inserted">The save was an insert.</param>
        /// <param name="committed">The object is complete and committed: build now.</param>
        public void Notify(ObjectKind kind, int objectId, bool inserted, bool committed, DateTime nowUtc)
        {
            if (objectId <= 0) return;
            string key = kind + ":" + objectId;
            lock (gate)
            {
                Pending p;
                if (!pending.TryGetValue(key, out p))
                {
                    p = new Pending { Change = new DueChange { Kind = kind, ObjectId = objectId }, FirstSeenUtc = nowUtc, DueUtc = nowUtc + Debounce };
                    pending.Add(key, p);
                }
                p.Change.Inserted |= inserted;
                p.Committed |= committed;

                if (committed)
                {
                    p.DueUtc = nowUtc;
                }
                else if (p.Change.Inserted && !p.Committed && kind == ObjectKind.Order)
                {
                    p.DueUtc = Max(p.DueUtc, p.FirstSeenUtc + InsertGrace);
                }
                else
                {
                    // Sliding quiet period, bounded so a busy object still gets an event.
                    p.DueUtc = Min(nowUtc + Debounce, p.FirstSeenUtc + MaxDelay);
                }
            }
        }

        /// <summary>Removes and returns the changes due at <paramref name="nowUtc"/> (all of them with <paramref name="all"/>).</summary>
        public List<DueChange> TakeDue(DateTime nowUtc, bool all)
        {
            lock (gate)
            {
                var due = pending.Where(x => all || x.Value.DueUtc <= nowUtc).ToList();
                foreach (var pair in due) pending.Remove(pair.Key);
                return due.Select(x => x.Value.Change).ToList();
            }
        }

        /// <summary>
        /// Puts back a change whose object was not found; false (and dropped) after
        /// <see cref="MaxNotFound"/> tries (about a minute): it was rolled back or deleted.
        /// </summary>
        public bool RetryNotFound(DueChange change, DateTime nowUtc)
        {
            if (++change.NotFound >= MaxNotFound) return false;
            string key = change.Kind + ":" + change.ObjectId;
            lock (gate)
            {
                Pending p;
                if (pending.TryGetValue(key, out p))
                {
                    p.Change.Inserted |= change.Inserted; // a newer notice arrived meanwhile: merge into it
                    return true;
                }
                pending.Add(key, new Pending { Change = change, FirstSeenUtc = nowUtc, DueUtc = nowUtc + NotFoundRetry });
                return true;
            }
        }

        private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;
        private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;
    }
}
