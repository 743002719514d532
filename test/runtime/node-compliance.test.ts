import { after, before } from 'node:test';
import { datagramSuite } from './compliance/datagram.suite.js';
import { processSuite } from './compliance/process.suite.js';
import { storeSuite } from './compliance/store.suite.js';
import { streamSuite } from './compliance/stream.suite.js';
import { Blackhole, makeDatagramFixture, makeProcessFixture, makeStoreFixture, makeStreamFixture } from './node-fixtures.js';

let blackhole: Blackhole | undefined;
before(async () => {
  blackhole = await Blackhole.start();
});
after(() => blackhole?.stop());

datagramSuite('node', makeDatagramFixture);
streamSuite('node', () => makeStreamFixture(blackhole));
processSuite('node', makeProcessFixture);
storeSuite('node (lmdb + files)', makeStoreFixture);
