"""The benchmark's floor: read every row of the given CSV files with ``csv.reader``, nothing more.

    python bench/csv_floor.py FILE...   (prints the number of rows read)
"""

import csv
import sys

rows = 0
for name in sys.argv[1:]:
    with open(name, encoding="utf-8-sig", newline="") as f:
        for _ in csv.reader(f):
            rows += 1
print(rows)
