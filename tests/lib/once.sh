# once.sh, sourced by the scripts that prepare something in the shared cache
# (kernel trees, the debug kernel) once, however many callers run at a time.
#
#   ready_or_lock LOCKFILE CHECK REPORT...
#
# When the command CHECK succeeds, runs REPORT... and exits 0. Otherwise
# takes LOCKFILE (fd 9, held until the calling script exits) and asks CHECK
# again, since another caller may have finished while this one waited;
# returns, holding the lock, when the work is still to be done.
ready_or_lock() {
	local lock=$1 check=$2
	shift 2
	if $check; then
		"$@"
		exit 0
	fi
	mkdir -p "$(dirname "$lock")"
	exec 9>"$lock"
	flock 9
	if $check; then
		"$@"
		exit 0
	fi
}
