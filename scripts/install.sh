#!/usr/bin/env bash
# Builds Lantern (release, Swift standard library linked in statically) and installs it:
#
#   PREFIX/bin/lantern
#   PREFIX/share/lantern/models/    the built-in models (lantern-tiny, -encoder, -translate)
#   PREFIX/share/lantern/lessons/   the guided lessons
#   PREFIX/share/lantern/commit     the commit it was built from (`lantern --version`)
#   PREFIX/share/man/man1/          man pages (lantern.1 and one per command)
#   PREFIX/share/bash-completion/completions/lantern, PREFIX/share/zsh/site-functions/_lantern,
#   PREFIX/share/fish/vendor_completions.d/lantern.fish
#
# The installed lantern finds its models and lessons from its own path, so the checkout can be
# removed; it needs only the system libraries of scripts/apt-packages.txt at run time.
#
# Usage: scripts/install.sh [--prefix DIR] [--from BUILD_FOLDER]
#   --prefix DIR    where to install (default: ~/.local; put DIR/bin on your PATH)
#   --from FOLDER   install a lantern already built in FOLDER (e.g. .build/debug) instead of
#                   building a release (the install test uses it)
set -euo pipefail

prefix="$HOME/.local"
from=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="${2:?--prefix needs a folder}"; shift 2 ;;
        --from) from="${2:?--from needs a build folder}"; shift 2 ;;
        -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
    esac
done

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
share="$prefix/share/lantern"

# share/lantern is this script's own folder: refuse one something else made, and a bin/lantern
# that is not from an earlier install (another program of that name).
if [ -d "$share" ] && [ -n "$(ls -A "$share")" ] && [ ! -f "$share/commit" ]; then
    echo "install.sh: $share exists and was not made by this script; choose another --prefix or remove it" >&2
    exit 1
fi
if [ -e "$prefix/bin/lantern" ] && [ ! -f "$share/commit" ]; then
    echo "install.sh: $prefix/bin/lantern exists and was not installed by this script; choose another --prefix or remove it" >&2
    exit 1
fi

if [ -z "$from" ]; then
    echo "building lantern (release, static Swift standard library; several minutes on 2 cores)…"
    # Foundation's networking, linked in statically, calls libcurl: the link needs libcurl.so
    # (libcurl4-openssl-dev, in scripts/apt-packages.txt); at run time libcurl4 is enough.
    swift build -c release --product lantern --static-swift-stdlib
    swift build -c release --product generate-manual
    from="$(swift build -c release --show-bin-path)"
fi
[ -x "$from/lantern" ] || { echo "install.sh: no lantern executable in $from" >&2; exit 1; }

install -d "$prefix/bin" "$share"
install -m 755 "$from/lantern" "$prefix/bin/lantern.new"
mv -f "$prefix/bin/lantern.new" "$prefix/bin/lantern"

# Models and lessons: copied whole into fresh folders, then swapped in.
for part in models lessons; do
    rm -rf "$share/$part.new"
    mkdir -p "$share/$part.new"
done
for model in lantern-tiny lantern-tiny-encoder lantern-tiny-translate; do
    cp -R "Sources/ModelHub/$model" "$share/models.new/$model"
done
cp -R lessons/. "$share/lessons.new/"
for part in models lessons; do
    rm -rf "$share/$part"
    mv "$share/$part.new" "$share/$part"
done
commit="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
if [ "$commit" != unknown ] && [ -n "$(git status --porcelain 2>/dev/null)" ]; then commit="$commit-modified"; fi
echo "$commit" > "$share/commit"

# Shell completions and man pages, from the installed binary's own description of itself.
install -d "$prefix/share/bash-completion/completions" "$prefix/share/zsh/site-functions" "$prefix/share/fish/vendor_completions.d"
"$prefix/bin/lantern" --generate-completion-script bash > "$prefix/share/bash-completion/completions/lantern"
"$prefix/bin/lantern" --generate-completion-script zsh > "$prefix/share/zsh/site-functions/_lantern"
"$prefix/bin/lantern" --generate-completion-script fish > "$prefix/share/fish/vendor_completions.d/lantern.fish"
if [ -x "$from/generate-manual" ]; then
    install -d "$prefix/share/man/man1"
    "$from/generate-manual" "$prefix/bin/lantern" --multi-page --output-directory "$prefix/share/man/man1"
    man_note="man pages in $prefix/share/man/man1"
else
    man_note="no man pages (no generate-manual in $from: build it with swift build --product generate-manual)"
fi

echo "installed lantern $("$prefix/bin/lantern" --version) into $prefix"
echo "  $prefix/bin/lantern; models and lessons in $share; $man_note"
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "  add $prefix/bin to your PATH, e.g. export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
