#!/usr/bin/env bash
# Makes TorchSharp 0.107.0 load on systems whose libstdc++ predates GLIBCXX_3.4.32 (Debian 12).
# Called by TorchSharpDebianFix.targets after every build of a project that uses TorchSharp.
#
#   fix-libtorchsharp.sh OUTDIR
#
# For each libLibTorchSharp.so under OUTDIR (runtimes/linux-x64/native/, and cpu/ if TorchSharp's
# loader made one), and only if the system libstdc++ lacks GLIBCXX_3.4.32:
#   1. builds libadd_ios_init.so beside it (defines std::ios_base_library_init());
#   2. clears the version of that symbol (patchelf --clear-symbol-version) so any definition binds;
#   3. adds libadd_ios_init.so as a NEEDED library (found through the existing RUNPATH $ORIGIN);
#   4. marks the GLIBCXX_3.4.32 requirement weak (VER_FLG_WEAK) so the loader does not refuse it.
# Patches the build output's copy only, never the NuGet cache. Idempotent.
set -euo pipefail
out=${1:?usage: fix-libtorchsharp.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
version=GLIBCXX_3.4.32
symbol=_ZSt21ios_base_library_initv
shim=libadd_ios_init.so

[ "$(uname -s)" = Linux ] || exit 0
libstdcxx=$( (/sbin/ldconfig -p 2>/dev/null || ldconfig -p) | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')
if [ -z "$libstdcxx" ]; then echo "fix-libtorchsharp: no system libstdc++.so.6 found" >&2; exit 1; fi
if grep -qa "$version" "$libstdcxx"; then exit 0; fi   # system library is new enough: nothing to do

mapfile -t libs < <(find "$out" -name libLibTorchSharp.so -type f 2>/dev/null)
[ ${#libs[@]} -gt 0 ] || exit 0

need_tool() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "fix-libtorchsharp: installing $2 (needed to patch libLibTorchSharp.so)" >&2
  local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo -n"
  $sudo apt-get install -y -q "$2" >/dev/null 2>&1 || { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q "$2" >/dev/null 2>&1; } \
    || { echo "fix-libtorchsharp: please install $2 (apt-get install $2)" >&2; exit 1; }
}
need_tool patchelf patchelf
need_tool g++ g++
need_tool gcc gcc

tools="$here/.bin"; mkdir -p "$tools"
if [ ! -x "$tools/vernaux-weak" ] || [ "$here/vernaux-weak.c" -nt "$tools/vernaux-weak" ]; then
  gcc -O2 -o "$tools/vernaux-weak" "$here/vernaux-weak.c"
fi
if [ ! -f "$tools/$shim" ] || [ "$here/ios-base-library-init.cpp" -nt "$tools/$shim" ]; then
  g++ -O2 -shared -fPIC -o "$tools/$shim" "$here/ios-base-library-init.cpp"
fi

for lib in "${libs[@]}"; do
  dir=$(dirname "$lib")
  cp -f "$tools/$shim" "$dir/$shim"
  if patchelf --print-needed "$lib" | grep -qx "$shim"; then continue; fi   # already patched
  tmp="$lib.patching"
  cp -f "$lib" "$tmp"
  patchelf --clear-symbol-version "$symbol" "$tmp"
  patchelf --add-needed "$shim" "$tmp"
  "$tools/vernaux-weak" "$tmp" "$version"
  mv -f "$tmp" "$lib"
  echo "fix-libtorchsharp: patched $lib for $version" >&2
done
