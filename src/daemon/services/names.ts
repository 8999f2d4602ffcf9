import { randomBytes, randomInt } from 'node:crypto';

// Readable generated names in docker's `adjective_surname` shape.
const LEFT = [
  'admiring', 'bold', 'brave', 'busy', 'calm', 'clever', 'cool', 'dazzling', 'eager', 'elastic',
  'epic', 'festive', 'focused', 'friendly', 'gallant', 'gifted', 'happy', 'hopeful', 'jolly', 'keen',
  'kind', 'loving', 'lucid', 'modest', 'nifty', 'peaceful', 'practical', 'quirky', 'relaxed', 'serene',
  'sharp', 'stoic', 'sweet', 'tender', 'trusting', 'upbeat', 'vibrant', 'wizardly', 'xenodochial', 'zealous',
];
const RIGHT = [
  'albattani', 'babbage', 'bohr', 'curie', 'darwin', 'dijkstra', 'einstein', 'euler', 'fermi', 'feynman',
  'galileo', 'gauss', 'hamilton', 'hopper', 'hypatia', 'johnson', 'kepler', 'knuth', 'lamport', 'lovelace',
  'mayer', 'meitner', 'newton', 'noether', 'pascal', 'perlman', 'ritchie', 'shannon', 'thompson', 'turing',
  'villani', 'wozniak', 'yalow', 'zhukovsky',
];

export function generateName(): string {
  return `${LEFT[randomInt(LEFT.length)]}_${RIGHT[randomInt(RIGHT.length)]}`;
}

/** 64 hex characters, never all digits (a numeric short ID would read as a number). */
export function generateId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex');
    if (!/^\d{12}/.test(id)) return id;
  }
}

export const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
