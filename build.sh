#!/usr/bin/env bash
# Builds everything spdk-wasm needs, skipping what is already up to date:
#   toolchain (Debian emscripten) and npm packages, host/gen/abi.ts from wasm/port/abi.def,
#   the unpatched tree (wasm/) and the patched tree (wasm/ + spdk-patches/series),
#   every variant {unpatched,patched} x {release,asan} under build/wasm/, and the TypeScript (dist/).
#
# The replays always build HEAD's version of a lab's files (docs/labs/student-files.txt) when the
# work tree changed them: that is a student's fix in progress, which `npm run lab -- check` builds on
# its own (host/lab/tree.node.ts, compile.node.ts), so it never stops spdk-patches/ from applying.
# SPDK_WASM_SOURCES=worktree builds wasm/ exactly as it is (to develop those files themselves).
# SPDK_WASM_TREES=unpatched builds only the unpatched tree.
# `bash build.sh --print-flags` prints the emcc flags (the lab builder reads them from here).
set -euo pipefail
cd "$(dirname "$0")"
trees=${SPDK_WASM_TREES:-unpatched patched}

# --- emcc flags (compile and link) -----------------------------------------------------------------
cflags=(-Iwasm/include -Iwasm/port -Wall -Werror=implicit-function-declaration -mbulk-memory)
ldflags=(-sMODULARIZE -sEXPORT_ES6 -sENVIRONMENT=web,worker -sEXPORT_NAME=createSpdkModule
  -sALLOW_MEMORY_GROWTH -sTOTAL_STACK=1048576 --no-entry
  -sERROR_ON_UNDEFINED_SYMBOLS=0 -sEXPORTED_FUNCTIONS=_malloc,_free)
common=("${cflags[@]}" "${ldflags[@]}")
release=(-O2 --profiling-funcs)
asan=(-O1 -g2 -fsanitize=address -sINITIAL_MEMORY=67108864)
if [ "${1:-}" = --print-flags ]; then
  printf 'cflags %s\nldflags %s\nrelease %s\nasan %s\n' "${cflags[*]}" "${ldflags[*]}" "${release[*]}" "${asan[*]}"
  exit 0
fi
export NODE_PATH=/usr/share/nodejs
say() { printf 'build: %s\n' "$*" >&2; }
die() { printf 'build: error: %s\n' "$*" >&2; exit 1; }

# --- toolchain -----------------------------------------------------------------------------------
if ! command -v emcc >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian's emscripten (apt-get, ~30 s)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq emscripten >/dev/null
  else
    die "emscripten is missing; run: sudo apt-get install -y emscripten"
  fi
fi
command -v patch >/dev/null 2>&1 || die "patch is missing; run: sudo apt-get install -y patch"

# --- npm packages --------------------------------------------------------------------------------
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
fi

mkdir -p build
# One build at a time in this tree (several shells may run build.sh at once).
exec 9>build/.lock
flock 9
hash_of() { find "$@" -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16; }

# --- ABI constants shared with TypeScript ---------------------------------------------------------
abi_key=$(hash_of wasm/port/abi.def wasm/port/abi_dump.c wasm/port/linux wasm/port/host_blk.h wasm/port/infiniband wasm/port/rdma)
if [ "$(cat build/abi.stamp 2>/dev/null)" != "$abi_key" ] || [ ! -f host/gen/abi.ts ]; then
  say "generating host/gen/abi.ts from wasm/port/abi.def"
  mkdir -p build/abi host/gen
  echo '{"type":"commonjs"}' > build/abi/package.json
  emcc -Iwasm/port wasm/port/abi_dump.c -o build/abi/abi_dump.js -sENVIRONMENT=node -sSINGLE_FILE
  node build/abi/abi_dump.js > host/gen/abi.ts.tmp && mv host/gen/abi.ts.tmp host/gen/abi.ts
  echo "$abi_key" > build/abi.stamp
fi

# --- source trees: unpatched = wasm/, patched = wasm/ + series ------------------------------------
rm -rf build/src.next && mkdir -p build/src.next && cp -r wasm build/src.next/
if [ "${SPDK_WASM_SOURCES:-}" != worktree ] && git rev-parse --verify -q HEAD >/dev/null 2>&1; then
  declare -A lab_seen=()
  while read -r lab path; do
    case "$lab" in ''|'#'*) continue ;; esac
    file=${path%%#*}
    [ -z "${lab_seen[$file]:-}" ] || continue
    lab_seen[$file]=1
    git diff --quiet HEAD -- "$file" 2>/dev/null && continue
    if git cat-file -e "HEAD:$file" 2>/dev/null; then git show "HEAD:$file" > "build/src.next/$file"; else rm -f "build/src.next/$file"; fi
    say "$file differs from HEAD (a lab fix?): the replays build HEAD's version; 'npm run lab -- check $lab' builds yours"
  done < docs/labs/student-files.txt
fi
src_key=$(hash_of build/src.next spdk-patches)
if [ "$(cat build/src.stamp 2>/dev/null)" != "$src_key $trees" ]; then
  rm -rf build/src
  for tree in $trees; do mkdir -p "build/src/$tree" && cp -r build/src.next/wasm "build/src/$tree/"; done
  if [ -d build/src/patched ]; then
    while read -r p; do
      case "$p" in ''|'#'*) continue ;; esac
      [ -f "spdk-patches/$p" ] || die "spdk-patches/series names $p, which does not exist"
      if ! (cd build/src/patched && patch -p1 --batch --forward --quiet < "../../../spdk-patches/$p"); then
        die "patch spdk-patches/$p does not apply to wasm/ (fix the patch or the tree)"
      fi
      say "applied $p"
    done < spdk-patches/series
  fi
  echo "$src_key $trees" > build/src.stamp
fi

# --- compile every variant ------------------------------------------------------------------------
compile() { # tree flavor
  local tree=$1 flavor=$2 out="build/wasm/$1-$2" flags key
  if [ "$flavor" = release ]; then flags=("${release[@]}"); else flags=("${asan[@]}"); fi
  key=$(printf '%s %s %s' "$src_key" "${common[*]}" "${flags[*]}" | sha256sum | cut -c1-16)
  if [ "$(cat "$out/build.id" 2>/dev/null)" = "$key" ]; then return 0; fi
  rm -rf "$out" && mkdir -p "$out"
  local srcs
  srcs=$(cd "build/src/$tree" && find wasm -name '*.c' ! -path 'wasm/port/abi_dump.c' | LC_ALL=C sort)
  (cd "build/src/$tree" && emcc "${common[@]}" "${flags[@]}" $srcs -o "../../../$out/spdk.mjs") \
    > "$out/emcc.log" 2>&1 || { cat "$out/emcc.log" >&2; die "emcc failed for $tree-$flavor"; }
  # Host imports are resolved at instantiation; any other undefined symbol is a real bug.
  if grep -E 'undefined symbol: ' "$out/emcc.log" | grep -vE 'undefined symbol: host_' >&2; then
    die "undefined symbols in $tree-$flavor (see above)"
  fi
  if grep -E 'warning: .*\[-W' "$out/emcc.log" >&2; then die "compiler warnings in $tree-$flavor"; fi
  echo "$key" > "$out/build.id"
  say "built $tree-$flavor ($(stat -c %s "$out/spdk.wasm") bytes)"
}

pids=()
for tree in $trees; do
  for flavor in release asan; do
    compile "$tree" "$flavor" & pids+=($!)
  done
done
for p in "${pids[@]}"; do wait "$p" || die "a variant failed to build"; done

# --- typed bindings of the C exports (host/gen/spdk-api.ts) ----------------------------------------
node tools/gen-api.mjs 2>/dev/null || node tools/gen-api.mjs

# --- TypeScript -----------------------------------------------------------------------------------
ts_key=$(hash_of host bench tsconfig.json tsconfig.build.json)
if [ "$(cat build/ts.stamp 2>/dev/null)" != "$ts_key" ] || [ ! -f dist/host/cli.js ]; then
  say "compiling TypeScript"
  npx --no-install tsc -p tsconfig.build.json >&2
  echo "$ts_key" > build/ts.stamp
fi
say "up to date"
