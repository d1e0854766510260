# Statistics shared by the benchmarks' jq programs (include "stats").

# The p-quantile of a list of numbers, interpolated between ranks.
def quantile(p):
	sort as $s | ($s | length) as $n | (p * ($n - 1)) as $i
	| ($i | floor) as $lo | ($i | ceil) as $hi
	| $s[$lo] + ($s[$hi] - $s[$lo]) * ($i - $lo);

def round1: . * 10 | round / 10;
