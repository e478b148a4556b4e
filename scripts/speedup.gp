# Draws the data file of scripts/chart-data as two panels: microtask's speed-up over the
# serial loop, and its ratio to the fastest other library (oneTBB, OpenMP, std::async),
# per workload and size. Linear axes; a bar below the line at 1 is a loss, drawn in red.
# Usage: gnuplot -e "datafile='…'; outfile='…'; host='…'" scripts/speedup.gp
set terminal pngcairo size 1400,1150 font "sans,10" noenhanced
set output outfile
set multiplot layout 2,1 title "microtask, measured on ".host
set style fill solid 0.85 border -1
set boxwidth 0.7
set grid ytics
set xtics rotate by -30 nomirror
set key off
set rmargin 16
set bmargin 7
set yrange [0:*]
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lc rgb "black" lw 2 front
set title "speed-up over the serial loop (serial time / microtask time; above 1: faster than serial)"
set ylabel "speed-up over serial"
plot datafile using 0:($2 >= 1 ? $2 : 1/0):xtic(1) with boxes lc rgb "#4e79a7", \
     '' using 0:($2 < 1 ? $2 : 1/0) with boxes lc rgb "#e15759", \
     '' using 0:2:(sprintf("%.2f", $2)) with labels offset 0,0.6
set bmargin 14
set title "ratio to the fastest other library (its time / microtask time; below 1: microtask loses), library named"
set ylabel "ratio to the fastest peer"
plot datafile using 0:($3 >= 1 ? $3 : 1/0):xtic(sprintf("%s vs %s", stringcolumn(1), stringcolumn(4))) with boxes lc rgb "#59a14f", \
     '' using 0:($3 < 1 ? $3 : 1/0) with boxes lc rgb "#e15759", \
     '' using 0:3:(sprintf("%.2f", $3)) with labels offset 0,0.6
unset multiplot
