# SPDX-License-Identifier: MIT
# For each (refuse options value, client command): the raw arguments the client sends (via the
# fake daemon) and what the real upstream daemon answers. Writes tests/data/options/refuse_cases.txt.
import subprocess, os, sys, time, shlex
sys.path.insert(0, '/tmp/d_exp/real')
from upstream_daemon import *
CASES = [
 ('compress', 'pull', '-az'),
 ('compress', 'pull', '-a --zl=3'),
 ('compress', 'pull', '-a --zc=zstd'),
 ('compress', 'pull', '-a'),
 ('z', 'pull', '-az'),
 ('a', 'pull', '-a'),
 ('a', 'pull', '-rt'),
 ('archive', 'push', '-r'),
 ('a', 'pull', '-d'),
 ('delete', 'push', '-r --delete'),
 ('delete', 'push', '-r --delete-after'),
 ('delete', 'push', '-r --delete-excluded'),
 ('delete', 'pull', '-a --remove-source-files'),
 ('delete', 'push', '-a --remove-source-files'),
 ('delete', 'pull', '-a --delete-missing-args'),
 ('delete-*', 'push', '-r --delete'),
 ('delete-before', 'push', '-r --delete'),
 ('delete-during', 'push', '-r --delete'),
 ('delete-during', 'push', '--protocol=29 -r --delete'),
 ('delete-before delete-during', 'push', '-r --delete'),
 ('del', 'push', '-r --delete-during'),
 ('delete-during', 'push', '-r --del'),
 ('delete-delay', 'push', '-r --delete-delay'),
 ('partial', 'push', '-a --partial'),
 ('partial', 'push', '-a --inplace'),
 ('partial', 'push', '-a --append'),
 ('partial', 'push', '-a --partial-dir=.p'),
 ('partial', 'push', '-a --delay-updates'),
 ('inplace', 'push', '-a --append'),
 ('inplace', 'push', '-a --write-devices'),
 ('progress', 'push', '-aP'),
 ('P', 'push', '-a -M-P'),
 ('*', 'pull', '-a'),
 ('*', 'pull', '-n'),

 ('* !a !r !l !p !t !g !o !D !v', 'push', '-av'),
 ('* !a !r !l !p !t !g !o !D !v', 'push', '-avz'),
 ('?', 'pull', '-a'),
 ('[lp]', 'pull', '-a'),
 ('c*', 'pull', '-ac --cc=md5'),
 ('checksum*', 'pull', '-a --cc=md5'),
 ('cc', 'pull', '-a --checksum-choice=md5'),
 ('checksum-choice', 'pull', '-a -M--cc=md5'),
 ('out-format', 'push', '-ai'),
 ('log-format', 'push', '-ai'),
 ('log-*', 'push', '-ai'),
 ('!copy-devices', 'pull', '-a --copy-devices'),
 ('', 'pull', '-a --copy-devices'),
 ('', 'push', '-a --write-devices'),
 ('!write-devices', 'push', '-a --write-devices'),
 ('!write-devices inplace', 'push', '-a --write-devices'),
 ('!log-file', 'pull', '-a -M--log-file=x'),
 ('!insecure-links', 'pull', '-a -M--insecure-links'),
 ('!iconv', 'pull', '-a --iconv=utf8'),
 ('no-iconv', 'pull', '-a'),
 ('no-iconv', 'pull', '-a -M--iconv=utf8'),
 ('!crtimes', 'pull', '-a -M--crtimes'),
 ('dry-run', 'pull', '-an'),
 ('n', 'pull', '-an'),
 ('e', 'pull', '-a'),
 ('rsh', 'pull', '-a'),
 ('s', 'pull', '-as'),
 ('secluded-args', 'pull', '-as'),
 ('protect-args', 'pull', '-as'),
 ('server', 'pull', '-a'),
 ('sender', 'pull', '-a'),
 ('from0', 'pull', '-a --files-from=/tmp/d_exp/list.txt'),
 ('files-from', 'pull', '-a --files-from=/tmp/d_exp/list.txt'),
 ('no-relative', 'pull', '-a --no-relative --files-from=/tmp/d_exp/list.txt'),
 ('relative', 'pull', '-aR'),
 ('R', 'pull', '-a --no-R'),
 ('no-R', 'pull', '-a -M--no-relative'),
 ('existing', 'push', '-a --ignore-non-existing'),
 ('ignore-non-existing', 'push', '-a --existing'),
 ('timeout', 'pull', '-a --timeout=5'),
 ('timeout', 'pull', '-a -M--timeout=x'),
 ('bwlimit', 'pull', '-a --bwlimit=100'),
 ('block-size', 'pull', '-a -B 4096'),
 ('B', 'pull', '-a -B 4096'),
 ('remove-sent-files', 'pull', '-a --remove-source-files'),
 ('remove-sent-files', 'pull', '-a --remove-sent-files'),
 ('daemon', 'pull', '-a -M--no-detach'),
 ('daemon', 'pull', '-a -M--config=x'),
 ('no-such-option', 'pull', '-a'),
 ('!', 'pull', '-a'),
 ('v\tz', 'pull', '-avz'),
 ('  v  ', 'pull', '-av'),
 ('v !v', 'pull', '-av'),
 ('!v v', 'pull', '-av'),
 ('D', 'pull', '-a'),
 ('specials', 'pull', '-a'),
 ('devices', 'pull', '-a'),
 ('no-D', 'pull', '-rlt --no-D'),
 ('super', 'push', '-a --super'),
 ('fake-super', 'push', '-a -M--fake-super'),
 ('chown', 'push', '-a --chown=a:b'),
 ('usermap', 'push', '-a --chown=a:b'),
 ('checksum-seed', 'pull', '-a --checksum-seed=5'),
 ('*', 'pull', '-a --checksum-seed=5 -n'),
 ('max-alloc', 'pull', '-a --max-alloc=100M'),
 ('W', 'push', '-aW'),
 ('whole-file', 'push', '-a --no-W --inplace --sparse'),
 ('no-W', 'push', '-a --no-W --inplace --sparse'),
 ('H', 'push', '-aH'),
 ('hard-links', 'push', '-a -M--no-H'),
 ('numeric-ids', 'push', '-a --numeric-ids'),
 ('stats', 'push', '-a --stats'),
 ('i', 'push', '-ai'),
 ('itemize-changes', 'push', '-a --out-format=%i'),
 ('link-dest', 'push', '-a --link-dest=/x'),
 ('*-dest', 'push', '-a --copy-dest=/x'),
 ('fuzzy', 'push', '-ay'),
 ('m', 'push', '-am'),
 ('temp-dir', 'push', '-a -T /tmp'),
 ('T', 'push', '-a --temp-dir=/tmp'),
 ('mkpath', 'push', '-a --mkpath'),
]
mods = {}
for i, (ref, _, _) in enumerate(CASES):
    mods['m%d' % i] = {'refuse options': ref, 'read only': 'false', 'uid': 'root', 'gid': 'root', 'path': '/tmp/d_exp/real/mods/m%d' % i}
    os.makedirs('/tmp/d_exp/real/mods/m%d' % i, exist_ok=True)
# harness.write_conf sets path itself; override by writing here
lines = ['use chroot = no', 'pid file = %s/rsyncd.pid' % BASE, 'log file = %s/rsyncd2.log' % BASE, 'port = %d' % PORT, 'address = 127.0.0.1']
for name, opts in mods.items():
    lines.append('[%s]' % name)
    for k, v in opts.items():
        lines.append('%s = %s' % (k, v))
open(BASE + '/rsyncd.conf', 'w').write('\n'.join(lines) + '\n')
start()
out = ['# Refuse-options behaviour of the real rsync 3.5.0 daemon (Debian build), recorded by running',
       '# the real client against it. Each case: the module\'s "refuse options" value (between the',
       '# quotes), the first argument batch the client sent (recorded with a fake daemon; one argument',
       '# per "arg:" line), and what the client printed first ("OK" when the transfer worked).']
fport = 24000
for i, (ref, kind, opts) in enumerate(CASES):
    fport += 1
    capf = '/tmp/d_exp/real/rcap.bin'
    if os.path.exists(capf): os.remove(capf)
    fake = subprocess.Popen([sys.executable, '/tmp/d_exp/fake.py', str(fport), capf])
    time.sleep(0.3)
    src = '/tmp/d_exp/real/data/'
    def cmd(host):
        o = shlex.split(opts)
        if kind == 'pull':
            return o + [host + 'm%d/' % i, '/tmp/d_exp/real/dst3/']
        return o + [src, host + 'm%d/' % i]
    subprocess.run(['rsync'] + cmd('rsync://127.0.0.1:%d/' % fport), capture_output=True, timeout=20)
    fake.wait(timeout=20)
    raw = open(capf, 'rb').read()
    first = raw.split(b'\0\0')[0] if b'\0\0' in raw else raw
    args = [a.decode() for a in first.split(b'\0')]
    rc, so, se = run(cmd('rsync://127.0.0.1:%d/' % PORT))
    msg = se.strip().split('\n')[0] if se.strip() else ''
    if rc == 0:
        res = 'OK'
    elif msg.startswith('rsync: The server') or msg.startswith('rsync: on remote') or msg.startswith('rsync: --') or msg.startswith('rsync: Attempt'):
        res = msg
    else:
        res = 'OTHER rc=%d %s' % (rc, msg)
    out.append('')
    out.append('refuse: "%s"' % ref)
    out.append('client: rsync %s (%s)' % (opts, kind))
    for a in args:
        out.append('arg: %s' % a)
    out.append('expect: %s' % res)
    print(ref, '|', opts, '|', res)
stop()
open('/work/main/tests/data/options/refuse_cases.txt', 'w').write('\n'.join(out) + '\n')
