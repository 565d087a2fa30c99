// MiniXunit: the small part of xUnit's API that paybridge's Kentico tests use, plus a runner,
// so the same test sources compile and run with Mono (infra/kentico/mono-test.sh) where no NuGet
// feed is reachable. With the .NET SDK the test projects use the real xUnit instead; this file is
// never part of those projects.
//
// Supported: [Fact], [Theory] with [InlineData], Skip; test classes are instantiated once per test
// (and disposed when IDisposable); async tests returning Task are awaited. Assert: Equal, NotEqual,
// True, False, Null, NotNull, Contains, DoesNotContain, StartsWith, EndsWith, Empty, NotEmpty,
// Single, Throws, Same, InRange.

using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Threading.Tasks;

namespace Xunit
{
    [AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
    public class FactAttribute : Attribute
    {
        public string DisplayName { get; set; }
        public string Skip { get; set; }
    }

    [AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
    public class TheoryAttribute : FactAttribute { }

    [AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
    public sealed class InlineDataAttribute : Attribute
    {
        public InlineDataAttribute(params object[] data) { Data = data ?? new object[] { null }; }
        public object[] Data { get; private set; }
    }

    /// <summary>Thrown by <see cref="Assert"/>; the runner reports its message.</summary>
    public sealed class AssertFailedException : Exception
    {
        public AssertFailedException(string message) : base(message) { }
    }

    public static class Assert
    {
        public static void Equal<T>(T expected, T actual)
        {
            if (!AreEqual(expected, actual)) Fail("Assert.Equal failed\n  expected: " + Show(expected) + "\n  actual:   " + Show(actual));
        }

        public static void Equal(string expected, string actual)
        {
            if (string.Equals(expected, actual, StringComparison.Ordinal)) return;
            int at = 0;
            if (expected != null && actual != null)
            {
                while (at < expected.Length && at < actual.Length && expected[at] == actual[at]) at++;
            }
            Fail("Assert.Equal failed (strings differ at index " + at + ")\n  expected: " + Show(expected) + "\n  actual:   " + Show(actual));
        }

        /// <summary>Equal after rounding both to <paramref name="precision"/> decimal places.</summary>
        public static void Equal(double expected, double actual, int precision)
        {
            if (Math.Round(expected, precision) != Math.Round(actual, precision))
                Fail("Assert.Equal failed (precision " + precision + ")\n  expected: " + Show(expected) + "\n  actual:   " + Show(actual));
        }

        public static void NotEqual<T>(T expected, T actual)
        {
            if (AreEqual(expected, actual)) Fail("Assert.NotEqual failed: both are " + Show(actual));
        }

        public static void True(bool condition) => True(condition, null);

        public static void True(bool condition, string userMessage)
        {
            if (!condition) Fail("Assert.True failed" + (userMessage == null ? "" : ": " + userMessage));
        }

        public static void False(bool condition) => False(condition, null);

        public static void False(bool condition, string userMessage)
        {
            if (condition) Fail("Assert.False failed" + (userMessage == null ? "" : ": " + userMessage));
        }

        public static void Null(object value)
        {
            if (value != null) Fail("Assert.Null failed: " + Show(value));
        }

        public static void NotNull(object value)
        {
            if (value == null) Fail("Assert.NotNull failed");
        }

        public static void Same(object expected, object actual)
        {
            if (!ReferenceEquals(expected, actual)) Fail("Assert.Same failed");
        }

        public static void Contains(string expectedSubstring, string actualString)
        {
            if (actualString == null || expectedSubstring == null || actualString.IndexOf(expectedSubstring, StringComparison.Ordinal) < 0)
                Fail("Assert.Contains failed\n  not found: " + Show(expectedSubstring) + "\n  in:        " + Show(actualString));
        }

        public static void Contains<T>(T expected, IEnumerable<T> collection)
        {
            if (collection == null || !collection.Any(x => AreEqual(expected, x)))
                Fail("Assert.Contains failed: " + Show(expected) + " not in " + Show(collection));
        }

        public static void DoesNotContain(string expectedSubstring, string actualString)
        {
            if (actualString != null && expectedSubstring != null && actualString.IndexOf(expectedSubstring, StringComparison.Ordinal) >= 0)
                Fail("Assert.DoesNotContain failed\n  found: " + Show(expectedSubstring) + "\n  in:    " + Show(actualString));
        }

        public static void DoesNotContain<T>(T expected, IEnumerable<T> collection)
        {
            if (collection != null && collection.Any(x => AreEqual(expected, x)))
                Fail("Assert.DoesNotContain failed: " + Show(expected) + " is in " + Show(collection));
        }

        public static void StartsWith(string expectedStart, string actualString)
        {
            if (actualString == null || expectedStart == null || !actualString.StartsWith(expectedStart, StringComparison.Ordinal))
                Fail("Assert.StartsWith failed\n  expected start: " + Show(expectedStart) + "\n  actual:         " + Show(actualString));
        }

        public static void EndsWith(string expectedEnd, string actualString)
        {
            if (actualString == null || expectedEnd == null || !actualString.EndsWith(expectedEnd, StringComparison.Ordinal))
                Fail("Assert.EndsWith failed\n  expected end: " + Show(expectedEnd) + "\n  actual:       " + Show(actualString));
        }

        public static void Empty(IEnumerable collection)
        {
            if (collection == null || collection.Cast<object>().Any()) Fail("Assert.Empty failed: " + Show(collection));
        }

        public static void NotEmpty(IEnumerable collection)
        {
            if (collection == null || !collection.Cast<object>().Any()) Fail("Assert.NotEmpty failed");
        }

        public static T Single<T>(IEnumerable<T> collection)
        {
            var list = (collection ?? Enumerable.Empty<T>()).ToList();
            if (list.Count != 1) Fail("Assert.Single failed: " + list.Count + " items");
            return list[0];
        }

        public static void InRange<T>(T actual, T low, T high) where T : IComparable
        {
            if (actual.CompareTo(low) < 0 || actual.CompareTo(high) > 0)
                Fail("Assert.InRange failed: " + Show(actual) + " not in [" + Show(low) + ", " + Show(high) + "]");
        }

        public static T Throws<T>(Action testCode) where T : Exception
        {
            try
            {
                testCode();
            }
            catch (Exception ex)
            {
                if (ex.GetType() == typeof(T)) return (T)ex;
                Fail("Assert.Throws failed: expected " + typeof(T).Name + ", got " + ex.GetType().Name + ": " + ex.Message);
            }
            Fail("Assert.Throws failed: expected " + typeof(T).Name + ", nothing was thrown");
            return null;
        }

        private static void Fail(string message)
        {
            throw new AssertFailedException(message);
        }

        private static bool AreEqual(object expected, object actual)
        {
            if (expected == null || actual == null) return expected == null && actual == null;
            if (expected is string || actual is string) return Equals(expected, actual);
            var e = expected as IEnumerable;
            var a = actual as IEnumerable;
            if (e != null && a != null)
            {
                var el = e.Cast<object>().ToList();
                var al = a.Cast<object>().ToList();
                if (el.Count != al.Count) return false;
                for (int i = 0; i < el.Count; i++)
                {
                    if (!AreEqual(el[i], al[i])) return false;
                }
                return true;
            }
            return Equals(expected, actual);
        }

        internal static string Show(object value)
        {
            if (value == null) return "null";
            var s = value as string;
            if (s != null) return "\"" + s + "\"";
            var e = value as IEnumerable;
            if (e != null) return "[" + string.Join(", ", e.Cast<object>().Select(Show)) + "]";
            var f = value as IFormattable;
            return f != null ? f.ToString(null, CultureInfo.InvariantCulture) : value.ToString();
        }
    }

    /// <summary>Runs every [Fact] and [Theory] case of this assembly; exit code 1 on any failure.</summary>
    public static class MiniRunner
    {
        public static int Main(string[] args)
        {
            string suite = args.Length > 0 ? args[0] : Assembly.GetExecutingAssembly().GetName().Name;
            bool verbose = Environment.GetEnvironmentVariable("MINIXUNIT_VERBOSE") == "1";
            int passed = 0, failed = 0, skipped = 0;
            var types = Assembly.GetExecutingAssembly().GetTypes()
                .Where(t => t.IsClass && t.IsPublic && !t.IsAbstract && t.Namespace != "Xunit")
                .OrderBy(t => t.FullName, StringComparer.Ordinal);
            foreach (var type in types)
            {
                var methods = type.GetMethods(BindingFlags.Public | BindingFlags.Instance)
                    .Where(m => m.GetCustomAttributes(typeof(FactAttribute), true).Length > 0)
                    .OrderBy(m => m.MetadataToken);
                foreach (var method in methods)
                {
                    var fact = (FactAttribute)method.GetCustomAttributes(typeof(FactAttribute), true)[0];
                    string name = type.Name + "." + method.Name;
                    if (fact.Skip != null)
                    {
                        skipped++;
                        Console.WriteLine("SKIP " + name + ": " + fact.Skip);
                        continue;
                    }
                    var cases = new List<object[]>();
                    if (fact is TheoryAttribute)
                    {
                        foreach (InlineDataAttribute data in method.GetCustomAttributes(typeof(InlineDataAttribute), true))
                        {
                            cases.Add(data.Data);
                        }
                        if (cases.Count == 0)
                        {
                            failed++;
                            Console.WriteLine("FAIL " + name + ": a [Theory] without [InlineData]");
                            continue;
                        }
                    }
                    else
                    {
                        cases.Add(new object[0]);
                    }
                    foreach (var data in cases)
                    {
                        string caseName = data.Length == 0 ? name : name + "(" + string.Join(", ", data.Select(Assert.Show)) + ")";
                        string error = Run(type, method, data);
                        if (error == null)
                        {
                            passed++;
                            if (verbose) Console.WriteLine("PASS " + caseName);
                        }
                        else
                        {
                            failed++;
                            Console.WriteLine("FAIL " + caseName + ": " + error);
                        }
                    }
                }
            }
            Console.WriteLine(suite + ": " + passed + " passed, " + failed + " failed" + (skipped > 0 ? ", " + skipped + " skipped" : ""));
            return failed == 0 && passed > 0 ? 0 : 1;
        }

        private static string Run(Type type, MethodInfo method, object[] data)
        {
            object instance = null;
            try
            {
                instance = Activator.CreateInstance(type);
                var parameters = method.GetParameters();
                if (parameters.Length != data.Length) return "expects " + parameters.Length + " arguments, [InlineData] has " + data.Length;
                var args = new object[data.Length];
                for (int i = 0; i < data.Length; i++)
                {
                    args[i] = Convert(data[i], parameters[i].ParameterType);
                }
                object result = method.Invoke(instance, args);
                var task = result as Task;
                if (task != null) task.GetAwaiter().GetResult();
                return null;
            }
            catch (TargetInvocationException ex)
            {
                return Describe(ex.InnerException ?? ex);
            }
            catch (Exception ex)
            {
                return Describe(ex);
            }
            finally
            {
                var disposable = instance as IDisposable;
                if (disposable != null) disposable.Dispose();
            }
        }

        private static object Convert(object value, Type target)
        {
            if (value == null || target.IsInstanceOfType(value)) return value;
            var underlying = Nullable.GetUnderlyingType(target) ?? target;
            if (underlying.IsEnum) return Enum.ToObject(underlying, value);
            return System.Convert.ChangeType(value, underlying, CultureInfo.InvariantCulture);
        }

        private static string Describe(Exception ex)
        {
            if (ex is AssertFailedException) return ex.Message;
            return ex.GetType().FullName + ": " + ex.Message + "\n" + ex.StackTrace;
        }
    }
}
