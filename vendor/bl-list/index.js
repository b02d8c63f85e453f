'use strict'

// Installed in place of bl (package.json "overrides"). mqtt-packet's parser, the one user of bl
// in our dependencies, calls bl() for each connection's byte list; bl builds a readable-stream
// Duplex around it, which loads all of readable-stream at start and costs about 1 KB per
// connection. The parser uses only the list's methods, so this gives it the list itself.
const BufferList = require('./BufferList')

function bl (initData) {
  return new BufferList(initData)
}

module.exports = bl
module.exports.BufferList = BufferList
