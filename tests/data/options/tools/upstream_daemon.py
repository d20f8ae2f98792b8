# SPDX-License-Identifier: MIT
# Drives the real upstream daemon with a set of modules (one per refuse-options value).
import subprocess, os, sys, time, json, shlex
PORT = int(os.environ.get('PORT', '23500'))
BASE = '/tmp/d_exp/real'
def write_conf(mods):
    lines = ['use chroot = no', 'pid file = %s/rsyncd.pid' % BASE, 'log file = %s/rsyncd.log' % BASE, 'port = %d' % PORT, 'address = 127.0.0.1']
    for name, opts in mods.items():
        lines.append('[%s]' % name)
        lines.append('path = %s/data' % BASE)
        for k, v in opts.items():
            lines.append('%s = %s' % (k, v))
    open(BASE + '/rsyncd.conf', 'w').write('\n'.join(lines) + '\n')
def start():
    subprocess.run(['rsync', '--daemon', '--config=%s/rsyncd.conf' % BASE])
    time.sleep(0.5)
def stop():
    try:
        pid = int(open(BASE + '/rsyncd.pid').read())
        os.kill(pid, 15)
    except Exception as e:
        print('stop:', e)
    time.sleep(0.3)
def run(args, timeout=20):
    r = subprocess.run(['rsync'] + args, capture_output=True, timeout=timeout, text=True, errors='replace')
    return r.returncode, r.stdout, r.stderr
