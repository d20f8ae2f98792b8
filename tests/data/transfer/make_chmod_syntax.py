#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Regenerates chmod_syntax.txt: which --chmod specs the real rsync accepts ("ok") or
# refuses ("bad"). Hand-picked edge cases plus seeded random strings over the spec alphabet.
# Usage: make_chmod_syntax.py [rsync-binary] > chmod_syntax.txt
import random
import subprocess
import sys

RSYNC = sys.argv[1] if len(sys.argv) > 1 else "/usr/bin/rsync"
FIXED = [
    "", ",", "u+x,", ",u+x", "u+x,,g+w", "D", "F", "F+x", "D+x", "DF+x", "FD+x", "DD+x",
    "FFu+x", "8", "9", "u7", "D7", "Du7", "7u", "77777", "010000", "07777", "0777", "0",
    "00000000000000000000000007", "u+xu", "u+ux", "u+uu", "u+ug", "u=g,o", "u=g,o+", "+st",
    "x", "u", "ug", "u+r-w", "u+r,g-w", "u+rwxXst", "a=rwx", "u+y", " u+x", "u+x ",
    "u +x", "+z", "-", "=", "+", "00", "u+t", "ag+u", "u+s,u-s", "D644,F755,a+X", "U+x",
    "u+X", "u+sx", "u+su", "u+tu", "u=", "=g", "g=o", "a-u", "7,7", "7+", "7x", "D0",
    "+,-", "u+x;g+w", "u+x\tg", "uuuuuuuu+rrrrrr", "u++x", "u+-x", "u+=x", "Dg+s,ug+w,Fo-w,+X",
]
ALPHABET = "DFugoa+-=rwxXst0178,"


def accepted(spec):
    r = subprocess.run([RSYNC, "-n", "--chmod=" + spec, "/dev/null", "/nonexistent-chmod-probe"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return "Invalid argument passed to --chmod" not in r.stderr


def main():
    rng = random.Random(20261124)
    specs = list(FIXED)
    for _ in range(200):
        n = rng.randint(1, 9)
        specs.append("".join(rng.choice(ALPHABET) for _ in range(n)))
    for _ in range(300):
        items = []
        for _ in range(rng.randint(1, 3)):
            item = rng.choice(["", "", "D", "F"])
            if rng.random() < 0.2:
                item += "%o" % rng.randint(0, 0o7777)
            else:
                item += "".join(rng.choice("ugoa") for _ in range(rng.randint(0, 2)))
                item += rng.choice("+-=")
                if rng.random() < 0.25:
                    item += rng.choice("ugo")
                else:
                    item += "".join(rng.choice("rwxXst") for _ in range(rng.randint(0, 3)))
            if rng.random() < 0.15:
                k = rng.randint(0, len(item))
                item = item[:k] + rng.choice(ALPHABET) + item[k:]
            items.append(item)
        specs.append(",".join(items))
    print("# ok|bad <tab> spec, as /usr/bin/rsync 3.5.0 judged --chmod=spec")
    seen = set()
    for spec in specs:
        if spec in seen:
            continue
        seen.add(spec)
        print("%s\t%s" % ("ok" if accepted(spec) else "bad", spec.replace("\t", "\\t")))


main()
