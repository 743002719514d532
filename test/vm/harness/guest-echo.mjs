// Runs inside the test guest (plain node, no build step): answers every line read from a
// virtio-serial port with `echo <line> from <hostname>`. Usage: node guest-echo.mjs /run/virtio-ports/NAME
import { openSync, read, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout } from 'node:timers';

const fd = openSync(process.argv[2], 'r+');
const buf = Buffer.alloc(4096);
let pending = '';
writeSync(fd, `hello from node ${process.version} in the guest\n`);
const loop = () =>
  read(fd, buf, 0, buf.length, null, (e, n) => {
    if (e) throw e;
    // 0 bytes: no host side connected yet; look again shortly.
    if (n === 0) return setTimeout(loop, 50);
    pending += buf.toString('utf8', 0, n);
    let i;
    while ((i = pending.indexOf('\n')) >= 0) {
      writeSync(fd, `echo ${pending.slice(0, i)} from ${hostname()}\n`);
      pending = pending.slice(i + 1);
    }
    loop();
  });
loop();
