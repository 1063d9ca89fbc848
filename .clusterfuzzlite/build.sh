#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: every libFuzzer target of fuzz/libfuzzer/
# built by cargo-fuzz (with the sanitizer flags the base image sets), copied to
# $OUT with a seed corpus (the target's regression inputs and fuzz/corpus/TARGET,
# as fuzz/libfuzzer/run seeds it) and, for the generator targets, the options
# fuzz/libfuzzer/run passes. verifier/tests/clusterfuzzlite.rs checks that this
# builds exactly the targets fuzz/libfuzzer/Cargo.toml declares.
#
#   SRC=... OUT=... .clusterfuzzlite/build.sh   (in the image; see fuzz/README.md)

# One line per [[bin]] of fuzz/libfuzzer/Cargo.toml.
TARGETS=(
  decode_validate
  validate_kernel
  emu_symbolic
  compiled_emu
  asm_roundtrip
  policy_parse
  diff_props
  rewrites
  gen_libseccomp
  gen_seccompiler
  readers
  elf_scan
  optimize
)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fuzzdir=$root/fuzz/libfuzzer

# libseccomp linked statically: the image that runs the fuzzers has no libseccomp.
export LIBSECCOMP_LINK_TYPE=static
export LIBSECCOMP_LIB_PATH=${LIBSECCOMP_LIB_PATH:-$(pkg-config --variable=libdir libseccomp)}

# A target cargo-fuzz knows but this list does not (or the other way round)
# stops the build, so none is left out silently.
declared=$(cd "$fuzzdir" && cargo fuzz list --fuzz-dir "$fuzzdir" | sort)
listed=$(printf '%s\n' "${TARGETS[@]}" | sort)
if [[ $declared != "$listed" ]]; then
  echo "build.sh: TARGETS does not match the targets of fuzz/libfuzzer/Cargo.toml:" >&2
  diff <(echo "$listed") <(echo "$declared") >&2 || true
  exit 1
fi

(cd "$fuzzdir" && cargo fuzz build -O --debug-assertions --fuzz-dir "$fuzzdir")

bin=$fuzzdir/target/x86_64-unknown-linux-gnu/release
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
for t in "${TARGETS[@]}"; do
  cp "$bin/$t" "$OUT/$t"
  # Seed corpus, as fuzz/libfuzzer/run seeds its own: the regression inputs
  # but the known-* ones (each shows a known generator issue, some a hang that
  # costs seconds per execution), and fuzz/corpus/TARGET when there is one.
  mkdir -p "$seeds/$t"
  for f in "$root/fuzz/regressions/$t"/* "$root/fuzz/corpus/$t"/*; do
    [[ -f $f ]] || continue
    case $(basename "$f") in known-*) ;; *) cp "$f" "$seeds/$t/" ;; esac
  done
  if compgen -G "$seeds/$t/*" >/dev/null; then
    (cd "$seeds/$t" && zip -q -j "$OUT/${t}_seed_corpus.zip" ./*)
  fi
  case $t in
    # The generator targets turn bytes into whole policies: without this,
    # libFuzzer tries policies of many rules from the start.
    gen_*) printf '[libfuzzer]\nlen_control = 0\n' >"$OUT/$t.options" ;;
  esac
done
