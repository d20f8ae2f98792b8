# SPDX-License-Identifier: MIT
# Usage: python3 capture.py client_cases.txt OUTDIR (run from a scratch dir holding fake_daemon.py).
# Runs the real rsync client against fake_daemon.py for each case; stores raw argument bytes.
import subprocess, sys, os, time, shlex
CASES = [l for l in open(sys.argv[1]).read().splitlines() if l.strip() and not l.startswith('#')]
outdir = sys.argv[2]
port = 23100
os.chdir('.')
os.makedirs('src', exist_ok=True); open('src/a','w').write('x'); open('list.txt','w').write('a\nb c\n')
for line in CASES:
    name, cmd = line.split('|', 1)
    name = name.strip(); cmd = cmd.strip()
    port += 1
    out = os.path.join(outdir, name + '.bin')
    fake = subprocess.Popen([sys.executable, 'fake_daemon.py', str(port), out])
    time.sleep(0.4)
    args = shlex.split(cmd.replace('HOST', f'127.0.0.1:{port}'))
    r = subprocess.run(['rsync'] + args, capture_output=True, timeout=20, env=dict(os.environ, RSYNC_PASSWORD='x'))
    fake.wait(timeout=20)
    data = open(out, 'rb').read() if os.path.exists(out) else b''
    print(name, '|', cmd, '|', repr(data))
