# Draws the speedup of microtask over each peer per workload, from the data file that
# scripts/bench-report writes. Usage: gnuplot -e "datafile='…'; outfile='…'" speedup.gp
set terminal pngcairo size 1200,650 font "sans,10" noenhanced
set output outfile
set title "microtask speedup over each peer (peer time / microtask time; > 1: microtask faster)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 2
set yrange [0.1:*]
set ytics (0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
set grid ytics
set xtics rotate by -25 nomirror
set key outside right top vertical
set arrow from graph 0, first 1 to graph 1, first 1 nohead lc rgb "black" lw 2
plot for [col=2:*] datafile using col:xtic(1) title columnheader(col)
