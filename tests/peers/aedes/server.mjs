// aedes (MQTT 3.1.1 only) on 127.0.0.1:PORT, for the gateway's broker-variant tests.
// Usage: node server.mjs PORT. Prints "listening PORT" once ready. The store is aedes' in-memory persistence:
// SIGUSR1 drops every connection and closes the port ("down"), SIGUSR2 listens again ("listening"), so a restart keeps
// retained messages and persistent sessions as a broker with a disk store would; SIGTERM ends the process.
import { Aedes } from 'aedes'
import { createServer } from 'aedes-server-factory'

const port = Number(process.argv[2] ?? 1883)
const aedes = await Aedes.createBroker()
const sockets = new Set()
aedes.on('clientError', (client, err) => console.log('client error', client?.id, err.message))
aedes.on('connectionError', (client, err) => console.log('connection error', client?.id, err.message))
let server = null
function listen () {
  server = createServer(aedes)
  server.on('connection', socket => { sockets.add(socket); socket.on('close', () => sockets.delete(socket)) })
  server.listen(port, '127.0.0.1', () => console.log('listening', port))
}
function down () {
  server?.close(() => console.log('down'))
  server = null
  for (const socket of sockets) socket.destroy()
}
listen()
process.on('SIGUSR1', down)
process.on('SIGUSR2', () => { if (server === null) listen() })
const stop = () => { down(); aedes.close(() => process.exit(0)) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
