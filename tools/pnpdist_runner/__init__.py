"""The pnpdist benchmark runner: YAML configs in the benchmark's shape, local (mpirun) and Slurm execution,
summary.csv and a self-contained HTML dashboard. Standard library plus PyYAML only.

Modules:
  config     load, validate and expand a config into runs
  launch     command lines, Slurm scripts, local execution
  results    read the run directories back (result.json, status) and write summary.csv
  svg        inline SVG charts
  dashboard  the HTML dashboard
"""
