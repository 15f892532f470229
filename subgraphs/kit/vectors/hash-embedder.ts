import { normalize, type Embedder } from './embedder.ts';
import { murmur3 } from './murmur3.ts';

/**
 * The local embedder: feature hashing ("the hashing trick") of words, word pairs and the
 * character 3- to 5-grams of each word, needing no model download and giving the same vector for
 * the same text on every machine, forever (the model name changes if the features ever do).
 *
 *   * text: Unicode NFKD with the combining marks removed (accents folded: "café" = "cafe"),
 *     lower case, split into runs of letters and digits (a run is cut at 64 characters);
 *   * features, each with a weight: the word (1.0; a short list of English function words is
 *     left out), each pair of consecutive words (0.5; not two function words), and the character
 *     n-grams of the word with boundary marks, `<mar`, `mark`, ..., `ing>` (0.25 each; fastText's
 *     subwords), which make "marketing" and "marketer", or a typo, land near each other;
 *   * term frequency is sublinear: a word seen n times counts 1 + ln n, not n;
 *   * each feature adds ±weight to one of `dimensions` slots: MurmurHash3 picks the slot and
 *     the sign (signed hashing: collisions cancel out on average instead of piling up);
 *   * the vector is scaled to unit length (cosine = dot product). An empty text is the zero vector.
 *
 * It knows spelling, not meaning ("car" and "automobile" are unrelated to it): near-duplicates
 * and texts sharing words score high, which is what "similar pages" and insight search need with
 * no model configured. Well under a millisecond per kilobyte of text: n-grams are hashed in place
 * and each word's slots are cached per embedder, so a long-lived one (a re-embedding job) mostly
 * looks words up (test/kit-vectors.test.ts measures both).
 */
export const LOCAL_HASH_MODEL = 'local-hash-v1';
export const LOCAL_HASH_DIMENSIONS = 384;

const WORD_WEIGHT = 1;
const PAIR_WEIGHT = 0.5;
const GRAM_WEIGHT = 0.25;
const MIN_GRAM = 3;
const MAX_GRAM = 5;
const MAX_WORD = 64;
/** Words whose features an embedder keeps (about 100 bytes each); past it the cache starts over. */
const CACHE_WORDS = 50_000;

// Seeds keep the kinds of feature apart: the word "ing" and the n-gram "ing" are different features.
const WORD_SEED = 0x5f3759df;
const GRAM_SEED = 0x2545f491;
const PAIR_SEED = 0x9e3779b9;

/** Frequent English words that say nothing about a text's subject (they still join word pairs). */
const STOP_WORDS = new Set(
  ('a an and are as at be been but by can do does for from had has have he her his how i if in into is it its ' +
    'me my no not of on or our she so than that the their them then there these they this those to too was we ' +
    'were what when where which who why will with you your').split(' '),
);

const MARKS = /\p{M}+/gu;
const WORDS = /[\p{L}\p{N}]+/gu;

/** The words of `text`: accents folded, lower case, each at most MAX_WORD characters. */
export function words(text: string): string[] {
  const folded = text.normalize('NFKD').replace(MARKS, '').toLowerCase();
  const found = folded.match(WORDS) ?? [];
  return found.map((word) => (word.length > MAX_WORD ? word.slice(0, MAX_WORD) : word));
}

/** murmur3's finaliser: mixes two hashes into one for a word pair. */
function mix(a: number, b: number): number {
  let h = (a ^ Math.imul(b, 0x9e3779b1) ^ PAIR_SEED) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class HashEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  private readonly cache = new Map<string, Int32Array>();

  constructor(options: { dimensions?: number; model?: string } = {}) {
    this.dimensions = options.dimensions ?? LOCAL_HASH_DIMENSIONS;
    if (!Number.isInteger(this.dimensions) || this.dimensions < 2 || this.dimensions > 16_000) {
      throw new Error(`HashEmbedder: dimensions must be an integer from 2 to 16000, not ${this.dimensions}`);
    }
    // Another dimension is another vector space: its name says so, unless the caller names it.
    this.model = options.model ?? (this.dimensions === LOCAL_HASH_DIMENSIONS ? LOCAL_HASH_MODEL : `${LOCAL_HASH_MODEL}-${this.dimensions}`);
  }

  embed(texts: readonly string[]): Promise<Float32Array[]> {
    return Promise.resolve(texts.map((text) => this.embedOne(text)));
  }

  /** The vector of one text, synchronously. */
  embedOne(text: string): Float32Array {
    const vector = new Float32Array(this.dimensions);
    const tokens = words(text);
    const counts = new Map<string, number>();
    for (const word of tokens) counts.set(word, (counts.get(word) ?? 0) + 1);

    for (const [word, n] of counts) {
      if (STOP_WORDS.has(word)) continue;
      const tf = 1 + Math.log(n);
      const features = this.featuresOf(word);
      // The first is the word's own slot, the rest its n-grams'.
      for (let i = 0; i < features.length; i++) {
        const f = features[i]!;
        const weight = (i === 0 ? WORD_WEIGHT : GRAM_WEIGHT) * tf;
        const slot = f < 0 ? ~f : f;
        vector[slot] = vector[slot]! + (f < 0 ? -weight : weight);
      }
    }

    // Word pairs ("of the" and other pairs of two function words left out).
    const pairs = new Map<number, number>();
    let previous: number | undefined;
    let previousStop = true;
    for (const word of tokens) {
      const hash = murmur3(word, 0, word.length, WORD_SEED);
      const stop = STOP_WORDS.has(word);
      if (previous !== undefined && !(stop && previousStop)) {
        const pair = mix(previous, hash);
        pairs.set(pair, (pairs.get(pair) ?? 0) + 1);
      }
      previous = hash;
      previousStop = stop;
    }
    for (const [pair, n] of pairs) this.add(vector, pair, PAIR_WEIGHT * (1 + Math.log(n)));

    return normalize(vector);
  }

  /**
   * The signed slots of a word and its n-grams (slot, or ~slot for a negative sign), cached: a
   * tenant's texts share most of their words, and hashing the n-grams is most of the work.
   */
  private featuresOf(word: string): Int32Array {
    let features = this.cache.get(word);
    if (features) return features;
    const padded = `<${word}>`;
    let count = 1;
    for (let size = MIN_GRAM; size <= MAX_GRAM; size++) count += Math.max(0, padded.length - size + 1);
    features = new Int32Array(count);
    features[0] = this.signedSlot(murmur3(word, 0, word.length, WORD_SEED));
    let i = 1;
    for (let size = MIN_GRAM; size <= MAX_GRAM; size++) {
      for (let start = 0; start + size <= padded.length; start++) features[i++] = this.signedSlot(murmur3(padded, start, start + size, GRAM_SEED));
    }
    if (this.cache.size >= CACHE_WORDS) this.cache.clear();
    this.cache.set(word, features);
    return features;
  }

  /** The slot of `hash` (its bits but the lowest), or ~slot when its lowest bit says negative. */
  private signedSlot(hash: number): number {
    const slot = (hash >>> 1) % this.dimensions;
    return hash & 1 ? slot : ~slot;
  }

  /** Adds ±weight at the slot of `hash`: its low bit is the sign, the rest the slot. */
  private add(vector: Float32Array, hash: number, weight: number): void {
    const slot = (hash >>> 1) % this.dimensions;
    vector[slot] = vector[slot]! + (hash & 1 ? weight : -weight);
  }
}
