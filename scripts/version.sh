#!/bin/sh
# The version cvisor reports: `git describe` of a tag (v1.2.3 -> 1.2.3,
# with -N-gHASH after it and -dirty as git says) when built in a git
# checkout that has one; BASE+gHASH in a checkout without tags; BASE alone
# outside git (a release tarball).
BASE=0.1.0
cd "$(dirname "$0")/.." || exit 1
if v=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null); then
	echo "${v#v}"
elif h=$(git rev-parse --short HEAD 2>/dev/null); then
	d=$(git diff --quiet HEAD -- 2>/dev/null || echo .dirty)
	echo "$BASE+g$h$d"
else
	echo "$BASE"
fi
