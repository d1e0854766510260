# Turns bench/xen-dom0's JSON lines (slurped) into one run file: the host's
# load, the guest's settings, the spread of each measure per method, every
# snapshot with its commit stall, and the commits through one snapshot per
# method. Arguments: $run_label, $git, $cpu, $before, $after (see bench/xen).
include "stats";

def spread:
	map(select(. != null))
	| if length == 0 then null else {
		p50: (quantile(0.5) | round1), p95: (quantile(0.95) | round1),
		min: (min | round1), max: (max | round1), n: length
	} end;
def minus(a; b): if a != null and b != null then a - b | round1 else null end;

(map(select(.type == "meta"))[0] | del(.type)) as $meta
| (map(select(.type == "stall")) | map({key: "\(.round) \(.method) \(.fs)", value: .stall_ms})
	| from_entries) as $stall
| [map(select(.type == "snapshot"))[] | del(.type)
	| $stall["\(.round) \(.method) ext4"] as $ext4 | $stall["\(.round) \(.method) xfs"] as $xfs
	| . + {
		stall_ext4_ms: $ext4, stall_xfs_ms: $xfs,
		stall_ms: (if $ext4 == null or $xfs == null then null else [$ext4, $xfs] | max end),
		# The fallback's freeze call starts after its pre-sync.
		blocked_ms: (if .method == "fallback" then .frozen_ms else minus(.frozen_ms; .presync_ms) end)
	}
	| . + {
		beyond_ms: minus(.stall_ms; .copy_ms),
		protocol_ms: minus(minus(minus(.window_ms; .freeze_ms); .copy_ms); .thaw_ms)
	}
] as $snaps
| ($meta.methods | split(" ")) as $order
| {
	label: $run_label,
	git: $git,
	host: {cpu: $cpu, accel: "tcg", load_before: $before, load_after: $after},
	guest: $meta,
	summary: [
		$snaps | group_by(.method)[]
		| map(select(.rc == 0)) as $ok
		| {
			method: .[0].method,
			snapshots: length,
			failed: (length - ($ok | length)),
			consistency: (map(.consistency) | unique),
			beyond_ms: ($ok | map(.beyond_ms) | spread),
			stall_ms: ($ok | map(.stall_ms) | spread),
			copy_ms: ($ok | map(.copy_ms) | spread),
			drain_ms: ($ok | map(.drain_ms) | spread),
			presync_ms: ($ok | map(.presync_ms) | spread),
			blocked_ms: ($ok | map(.blocked_ms) | spread),
			freeze_ms: ($ok | map(.freeze_ms) | spread),
			protocol_ms: ($ok | map(.protocol_ms) | spread),
			thaw_ms: ($ok | map(.thaw_ms) | spread),
			window_ms: ($ok | map(.window_ms) | spread),
			# drain_scope = disks that capped vm.dirty_bytes instead
			drain_fallbacks: ($ok | map(select(.drain_fallback == true)) | length),
			checks: {
				ext4_clean: ($ok | map(select(.ext4_clean)) | length),
				xfs_clean: ($ok | map(select(.xfs_clean)) | length),
				db_intact: ($ok | map(select(.db_intact)) | length)
			}
		}
	] | sort_by(.method as $m | $order | index($m)),
	snapshots: $snaps,
	traces: [map(select(.type == "trace")) | group_by([.method, .fs])[]
		| {method: .[0].method, fs: .[0].fs, commits: map([.t_ms, .commit_ms])}]
}
