# R MatchIt side of bench/bench_matching.py: 1:1 nearest neighbour on a logistic propensity
# score, within school or without strata, timed in-process.
# Usage: Rscript bench_matching.R <cohort.csv> <out.csv> <strata: school|none> [method]
# Run with MatchIt 4.7.x on R_LIBS (see bench/bench_matching.py). The caller removes exact
# strata without treated units before asking for "school" (MatchIt issue #151 in older
# releases), and every tool gets the same rows.
suppressPackageStartupMessages(library(MatchIt))
a <- commandArgs(trailingOnly = TRUE)
d <- read.csv(a[1], stringsAsFactors = FALSE)
invisible(gc(reset = TRUE))
base <- sum(gc()[, 2])
t0 <- proc.time()[["elapsed"]]
method <- if (length(a) >= 4) a[4] else "nearest"   # "optimal" / "full" need optmatch
if (a[3] == "school") {
  m <- suppressWarnings(matchit(em ~ prior + fsm + female + sen + eal, data = d,
                                method = method, exact = ~ school_id))
} else {
  m <- suppressWarnings(matchit(em ~ prior + fsm + female + sen + eal, data = d,
                                method = method))
}
secs <- proc.time()[["elapsed"]] - t0
peak <- sum(gc()[, 6]) - base   # "max used" (Mb) since the reset, above the data's baseline
write.csv(data.frame(id = d$id[m$weights > 0],
                     subclass = if (is.null(m$subclass)) NA else m$subclass[m$weights > 0]),
          a[2], row.names = FALSE)
write.csv(data.frame(id = d$id, distance = sprintf("%.17g", m$distance)),
          sub("\\.csv$", "_distance.csv", a[2]), row.names = FALSE)
cat(sprintf("%s,%.3f,%.1f\n", packageVersion("MatchIt"), secs, peak))
