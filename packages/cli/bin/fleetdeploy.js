#!/usr/bin/env node
// The installed command; the program is compiled to dist/ by `npm ci` (the root package's prepare step).
import '../dist/main.js';
