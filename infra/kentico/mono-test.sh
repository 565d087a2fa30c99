#!/usr/bin/env bash
# Builds and runs the Kentico-free C# of both Kentico modules with Mono (Debian's mono-devel),
# where no .NET SDK and no NuGet feed are available:
#
#   k13   the Kentico 13 module's WebhookSigner.cs, JsonWriter.cs, PaybridgeSettings.cs
#         + PaybridgeWebhooks.Tests/*.cs
#   xbyk  the Xperience by Kentico package's Paybridge.Xperience.Core/*.cs
#         + Paybridge.Xperience.Core.Tests/*.cs
#
# each compiled with MiniXunit/MiniXunit.cs (xUnit's attributes and asserts plus a runner) into
# an .exe under target/kentico-mono/ (git-ignored), then run with mono. Fails on any compiler
# error or failed test; prints one summary line per suite. The Kentico-dependent projects
# (PaybridgeWebhooks's module and sender, xbyk/Paybridge.Xperience) need Kentico's NuGet packages
# and are compiled in the shop's solution, not here.
#
# Needs: mcs and mono (apt-get install -y mono-devel). C# level: 7.2 (Mono 6.8's mcs accepts at
# most 7.2; the sources are written for C# 7.3 and use nothing of 7.3 that 7.2 lacks).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${KENTICO_MONO_OUT:-$root/target/kentico-mono}"

command -v mcs >/dev/null || { echo "mcs not found: apt-get install -y mono-devel" >&2; exit 2; }
command -v mono >/dev/null || { echo "mono not found: apt-get install -y mono-devel" >&2; exit 2; }

rm -rf "$out"
mkdir -p "$out"

# -warnaserror is not used: mcs warns about things the real compiler does not (and vice versa).
MCS=(mcs -langversion:7.2 -nologo -debug- -optimize+ -target:exe -nowarn:1591
     -r:System.dll -r:System.Core.dll -r:System.Net.Http.dll)

build() { # build <name> <files…>
  local name="$1"; shift
  "${MCS[@]}" -out:"$out/$name.exe" "$@"
}

k13="$here/PaybridgeWebhooks"
xbyk="$here/xbyk"
shim="$here/MiniXunit/MiniXunit.cs"

build k13-tests \
  "$k13/WebhookSigner.cs" "$k13/JsonWriter.cs" "$k13/PaybridgeSettings.cs" \
  "$here"/PaybridgeWebhooks.Tests/*.cs "$shim"

build xbyk-core-tests \
  "$xbyk"/Paybridge.Xperience.Core/*.cs \
  "$xbyk"/Paybridge.Xperience.Core.Tests/*.cs "$shim"

status=0
# The vectors contain non-ASCII text; a C locale must not change how anything is encoded.
export LC_ALL=C.UTF-8
mono "$out/k13-tests.exe" "Kentico 13 module (Kentico-free part)" || status=1
mono "$out/xbyk-core-tests.exe" "Xperience by Kentico package core" || status=1
exit $status
