# Round-trip latency percentiles of shmrec-bench, one curve per case (and the two floors).
#   gnuplot -e "data='build/bench/latency.dat'; out='build/bench/latency.png'" bench/plot_latency.gp
# x: round trip (log scale); y: percentile on a "nines" scale, so the tail is readable.
if (!exists("data")) data = 'build/bench/latency.dat'
if (!exists("out")) out = 'build/bench/latency.png'

set terminal pngcairo size 1400,850 noenhanced font ",11"
set output out
set title "shmrec-bench: round-trip latency distribution (two processes, pinned, 32-byte records)"
set logscale x 10
set format x "%.0s%cs"
set xlabel "round trip"
set ylabel "percentile"
set ytics ("0%%" 0, "50%%" log10(2), "90%%" 1, "99%%" 2, "99.9%%" 3, "99.99%%" 4, "99.999%%" 5)
set grid xtics ytics mxtics
set key outside right top
stats data using 2 nooutput
# Latencies are in ns; scale to seconds so the x labels read ns / µs / ms.
plot for [i=0:STATS_blocks-1] data index i \
     using ($2*1e-9):($1 < 1 ? -log10(1-$1) : NaN) with lines lw 2 title columnheader(1)
