#!/bin/sh
# Publish the built site (default _build/html) to the `gh-pages` branch of REMOTE (default origin),
# which GitHub Pages serves (Settings -> Pages -> "Deploy from a branch", branch gh-pages, / (root)).
# Plain git, no extra package: a private index and the site folder as work tree make one commit
# on top of the previous gh-pages commit; the checkout, its index and the current branch are untouched.
set -eu
SITE=${1:-_build/html}
REMOTE=${REMOTE:-origin}
BRANCH=${BRANCH:-gh-pages}
[ -f "$SITE/index.html" ] || { echo "publish: $SITE/index.html is missing; run 'make book' first" >&2; exit 1; }
git remote get-url "$REMOTE" >/dev/null 2>&1 || {
  echo "publish: no git remote '$REMOTE'; add one (git remote add $REMOTE git@github.com:USER/REPO.git) or set REMOTE=" >&2
  exit 1; }
touch "$SITE/.nojekyll"                      # GitHub Pages would otherwise hide _static/ and _sources/
INDEX=$(mktemp "${TMPDIR:-/tmp}/gh-pages-index.XXXXXX")
trap 'rm -f "$INDEX"' EXIT
rm -f "$INDEX"
GIT_INDEX_FILE=$INDEX git --work-tree="$SITE" add --all --force .
TREE=$(GIT_INDEX_FILE=$INDEX git write-tree)
git fetch --quiet "$REMOTE" "$BRANCH" 2>/dev/null && PARENT=$(git rev-parse FETCH_HEAD) || PARENT=""
SOURCE=$(git rev-parse --short HEAD)
if [ -n "$PARENT" ] && [ "$(git rev-parse "$PARENT^{tree}")" = "$TREE" ]; then
  echo "publish: $REMOTE/$BRANCH already holds this site"; exit 0
fi
COMMIT=$(echo "Publish the course site built from $SOURCE" | git commit-tree "$TREE" ${PARENT:+-p "$PARENT"})
git push "$REMOTE" "$COMMIT:refs/heads/$BRANCH"
echo "publish: pushed $COMMIT to $REMOTE/$BRANCH"
