// The top level of this module runs once, during pre-initialization (Wizer in
// ComponentizeJS, compsnap in this example). Its results live in the snapshot,
// so the exports below must see them without running the top level again.

let topLevelRuns = 0;
topLevelRuns += 1;

// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) lookup table.
const CRC_TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) {
    c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  CRC_TABLE[n] = c >>> 0;
}

// Primes below 10000 by a sieve of Eratosthenes.
const LIMIT = 10000;
const composite = new Uint8Array(LIMIT);
const PRIMES = [];
for (let i = 2; i < LIMIT; i++) {
  if (composite[i]) continue;
  PRIMES.push(i);
  for (let j = i * i; j < LIMIT; j += i) composite[j] = 1;
}

// A greeting table keyed by the first letter, built from the primes.
const GREETINGS = new Map();
const WORDS = ['Hello', 'Hi', 'Hey', 'Greetings', 'Howdy'];
for (let i = 0; i < 26; i++) {
  GREETINGS.set(String.fromCharCode(97 + i), WORDS[PRIMES[i] % WORDS.length]);
}

const encoder = new TextEncoder();
let calls = 0;

// Used inside hello() only. As a u32 export it would hit a ComponentizeJS 0.23
// bug: a u32 result of 2^31 or more (a double in JS) comes back as the low 32
// bits of the double's bit pattern, 0x24c00000 instead of 0xcbf43926 for
// crc32("123456789").
function crc32Bytes(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function countPrimes(below) {
  if (below > LIMIT) throw new RangeError(`count-primes: ${below} is above ${LIMIT}`);
  let lo = 0;
  let hi = PRIMES.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (PRIMES[mid] < below) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function hello(name) {
  calls += 1;
  const greeting = GREETINGS.get(name.charAt(0).toLowerCase()) ?? 'Hello';
  const crc = crc32Bytes(encoder.encode(name)).toString(16).padStart(8, '0');
  return `${greeting}, ${name}! crc32=${crc} primes=${PRIMES.length} call=${calls}`;
}

export function initInfo() {
  return `crc-table=${CRC_TABLE.length} primes=${PRIMES.length} last-prime=${PRIMES[PRIMES.length - 1]} top-level-runs=${topLevelRuns}`;
}

export function log(msg) {
  console.log(msg);
  return msg.length;
}
