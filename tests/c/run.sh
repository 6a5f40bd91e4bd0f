#!/usr/bin/env bash
# Builds and runs the C/C++ side of sketchbox against an installed sketchbox:
# the header alone (C99 and C++17), tests/c/test_capi.c (plain and under valgrind),
# tests/c/test_header_cpp.cpp and examples/c/count_distinct.c (under valgrind, and
# compared with the Python package's estimate).
#
#   pip install .            # into the environment of $PYTHON
#   PYTHON=/path/to/venv/bin/python bash tests/c/run.sh
#
# Needs gcc, g++ and valgrind on PATH (CI: apt-get install valgrind). Uses nothing of
# the checkout but the sources in tests/c and examples/c: the header and library are
# those shipped inside $PYTHON's installed sketchbox package.
# SKETCHBOX_TEST_QUICK=1 makes test_capi shrink its long loops (it takes a few seconds
# under valgrind without it, so run.sh does not set it).
set -euo pipefail

PYTHON=${PYTHON:-python3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
START=$SECONDS

step() { printf '\n== %s\n' "$*"; }
ok() { printf 'ok: %s\n' "$*"; }
die() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }

for tool in gcc g++ valgrind readelf; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "'$tool' not found on PATH (install it, e.g. apt-get install $tool)"
done
command -v "$PYTHON" >/dev/null 2>&1 || die "python interpreter '$PYTHON' not found (set \$PYTHON)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sketchbox-c-tests.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Python runs from the temp dir so that a source checkout in the current directory
# cannot shadow the installed package.
py() { (cd "$WORK" && "$PYTHON" "$@"); }

step "locating the installed sketchbox ($PYTHON)"
INC=$(py -c 'import sketchbox; print(sketchbox.get_include())') ||
    die "cannot import sketchbox with $PYTHON (pip install . first)"
LIBPATH=$(py -c 'import sketchbox; print(sketchbox.get_library_path())')
LIBDIR=$(dirname "$LIBPATH")
VERSION=$(py -c 'import sketchbox; print(sketchbox.__version__)')
[ -f "$INC/sketchbox.h" ] || die "no sketchbox.h in $INC"
[ -f "$LIBPATH" ] || die "no library at $LIBPATH"
case "$(basename "$LIBPATH")" in
    libsketchbox.so.0) ;;
    *) die "expected the library to be named libsketchbox.so.0 (its SONAME), got $LIBPATH" ;;
esac
SONAME=$(readelf -d "$LIBPATH" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$SONAME" = libsketchbox.so.0 ] || die "SONAME of $LIBPATH is '$SONAME', not libsketchbox.so.0"
ok "sketchbox $VERSION: header $INC/sketchbox.h, library $LIBPATH (SONAME $SONAME)"

LINK=(-L"$LIBDIR" -lsketchbox -Wl,-rpath,"$LIBDIR")

step "header alone compiles as C99 (gcc -std=c99 -Wall -Wextra -pedantic -Werror)"
printf '#include "sketchbox.h"\n' >"$WORK/header_only.c"
gcc -std=c99 -Wall -Wextra -pedantic -Werror -fsyntax-only -I"$INC" "$WORK/header_only.c"
ok "C99"

step "header alone compiles as C++17 (g++ -std=c++17 -Wall -Wextra -pedantic -Werror)"
cp "$WORK/header_only.c" "$WORK/header_only.cpp"
g++ -std=c++17 -Wall -Wextra -pedantic -Werror -fsyntax-only -I"$INC" "$WORK/header_only.cpp"
ok "C++17"

step "building test_capi, test_header_cpp and count_distinct (-Wall -Wextra -Werror)"
gcc -std=c99 -Wall -Wextra -Werror -O1 -g -pthread -I"$INC" "$HERE/test_capi.c" \
    "${LINK[@]}" -lm -o "$WORK/test_capi"
g++ -std=c++17 -Wall -Wextra -pedantic -Werror -O1 -g -I"$INC" "$HERE/test_header_cpp.cpp" \
    "${LINK[@]}" -o "$WORK/test_header_cpp"
gcc -std=c99 -Wall -Wextra -Werror -O1 -g -I"$INC" "$ROOT/examples/c/count_distinct.c" \
    "${LINK[@]}" -o "$WORK/count_distinct"
NEEDED=$(readelf -d "$WORK/count_distinct" | sed -n 's/.*(NEEDED).*\[\(libsketchbox.*\)\]/\1/p')
[ "$NEEDED" = libsketchbox.so.0 ] || die "count_distinct needs '$NEEDED', not libsketchbox.so.0"
ok "built in $WORK; -lsketchbox resolves to $NEEDED"

# The last line of test_capi's output must be "N passed, 0 failed".
check_summary() {
    local last
    last=$(tail -n 1 "$1")
    [[ "$last" =~ ^[0-9]+\ passed,\ 0\ failed$ ]] || die "test_capi summary: '$last'"
}

VG=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)

step "test_capi"
# RUST_BACKTRACE=0: the deliberate panic of sk_debug_panic prints one short note only.
if ! RUST_BACKTRACE=0 "$WORK/test_capi" >"$WORK/test_capi.out" 2>"$WORK/test_capi.err"; then
    cat "$WORK/test_capi.out" "$WORK/test_capi.err"
    die "test_capi"
fi
grep -E '^(FAIL|  )' "$WORK/test_capi.out" || true
check_summary "$WORK/test_capi.out"
ok "test_capi: $(tail -n 1 "$WORK/test_capi.out")"

step "test_capi under valgrind (no invalid access, no definite leak)"
T0=$SECONDS
if ! RUST_BACKTRACE=0 "${VG[@]}" --log-file="$WORK/vg_test_capi.log" "$WORK/test_capi" \
    >"$WORK/test_capi_vg.out" 2>&1; then
    cat "$WORK/test_capi_vg.out" "$WORK/vg_test_capi.log"
    die "test_capi under valgrind"
fi
check_summary "$WORK/test_capi_vg.out"
ok "test_capi under valgrind: $(tail -n 1 "$WORK/test_capi_vg.out") ($((SECONDS - T0)) s)"

# A family's C test, tests/c/<name>.c: built, run plain and under valgrind.
family_test() {
    local name=$1
    step "$name (plain and under valgrind)"
    gcc -std=c99 -Wall -Wextra -Werror -O1 -g -I"$INC" "$HERE/$name.c" "${LINK[@]}" -lm \
        -o "$WORK/$name"
    "$WORK/$name" >"$WORK/$name.out" || { cat "$WORK/$name.out"; die "$name"; }
    check_summary "$WORK/$name.out"
    if ! "${VG[@]}" --log-file="$WORK/vg_$name.log" "$WORK/$name" >"$WORK/${name}_vg.out"; then
        cat "$WORK/${name}_vg.out" "$WORK/vg_$name.log"
        die "$name under valgrind"
    fi
    check_summary "$WORK/${name}_vg.out"
    ok "$name: $(tail -n 1 "$WORK/$name.out"), also under valgrind"
}

family_test test_kll
family_test test_theta
family_test test_tuple
family_test test_frequent

# The estimate of HyperLogLog(12) (HLL_8) over the lines of a file, as count_distinct
# splits them (on "\n", one trailing "\r" removed from terminated lines), as str.
py_estimate() {
    py - "$1" <<'EOF'
import sys
import sketchbox
data = open(sys.argv[1], "rb").read()
lines = data.split(b"\n")
last = lines.pop()  # b"" if the input ends with a newline
lines = [l[:-1] if l.endswith(b"\r") else l for l in lines]
if last:
    lines.append(last)
h = sketchbox.HyperLogLog(12)
h.update([l.decode("utf-8") for l in lines])
print(repr(h.estimate()))
EOF
}

# Compares count_distinct's output file ($1) with the Python estimate ($2).
compare_estimates() {
    py - "$1" "$2" <<'EOF'
import sys
out = open(sys.argv[1]).read()
first_line = out.splitlines()[0] if out else ""
fields = first_line.split()
if len(fields) != 3:
    sys.exit(f"count_distinct printed {first_line!r}, expected 'estimate lower upper'")
c_est, lower, upper = (float(f) for f in fields)
py_est = float(sys.argv[2])
if c_est != py_est:
    sys.exit(f"count_distinct estimate {fields[0]} != Python estimate {sys.argv[2]}")
if not lower <= c_est <= upper:
    sys.exit(f"estimate {c_est} outside its bounds [{lower}, {upper}]")
print(f"count_distinct {first_line} == Python {sys.argv[2]}")
EOF
}

step "count_distinct on 'seq 1 100000' under valgrind, compared with Python"
seq 1 100000 >"$WORK/seq.txt"
T0=$SECONDS
if ! "${VG[@]}" --log-file="$WORK/vg_count.log" "$WORK/count_distinct" \
    <"$WORK/seq.txt" >"$WORK/count.out"; then
    cat "$WORK/vg_count.log"
    die "count_distinct under valgrind"
fi
PY_EST=$(py_estimate "$WORK/seq.txt")
compare_estimates "$WORK/count.out" "$PY_EST" || die "count_distinct vs Python"
ok "count_distinct under valgrind ($((SECONDS - T0)) s)"

step "count_distinct on CRLF, empty, non-ASCII and 1 MB lines, compared with Python"
py - "$WORK/mixed.txt" <<'EOF'
import sys
with open(sys.argv[1], "wb") as f:
    for i in range(5000):
        f.write(f"w{i % 3000}\r\n".encode() if i % 2 else f"w{i % 3000}\n".encode())
    f.write(b"\n\r\n\n")                       # two empty items, and "\r" alone
    f.write("caf\u00e9 \u65e5\u672c\n".encode("utf-8"))
    f.write(b"x" * 1_000_000 + b"\n")
    f.write(b"x" * 999_999 + b"y\n")
    f.write(b"no newline at the end")
EOF
"$WORK/count_distinct" <"$WORK/mixed.txt" >"$WORK/mixed.out"
compare_estimates "$WORK/mixed.out" "$(py_estimate "$WORK/mixed.txt")" || die "count_distinct vs Python (mixed lines)"
ok "mixed lines"

step "count_distinct rejects a bad lg_k with the library's message"
if "$WORK/count_distinct" 3 </dev/null >/dev/null 2>"$WORK/bad.err"; then
    die "count_distinct 3 succeeded"
fi
grep -q 'lg_k' "$WORK/bad.err" || die "no lg_k message: $(cat "$WORK/bad.err")"
ok "$(head -n 1 "$WORK/bad.err")"
# 260 must be rejected, not truncated to 260 mod 256 = 4.
if "$WORK/count_distinct" 260 </dev/null >/dev/null 2>"$WORK/bad260.err"; then
    die "count_distinct 260 succeeded"
fi
grep -q 'got 260' "$WORK/bad260.err" || die "no lg_k 260 message: $(cat "$WORK/bad260.err")"
ok "$(head -n 1 "$WORK/bad260.err")"
"$WORK/count_distinct" 16 <"$WORK/seq.txt" >"$WORK/count16.out"
ok "count_distinct 16: $(cat "$WORK/count16.out")"

step "test_header_cpp (C++17 caller)"
"$WORK/test_header_cpp"
ok "test_header_cpp"

printf '\nALL C TESTS PASSED (%d s)\n' "$((SECONDS - START))"
