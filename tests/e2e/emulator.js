// Start telegram-test-api on the port given as the first argument and say "ready" when it listens.
const TelegramServer = require('telegram-test-api');

const port = Number(process.argv[2]);
// Keep messages for an hour: the default (60 s) would drop them in the middle of a test.
const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 3600 });
server.start().then(() => {
  process.stdout.write('ready\n');
});
process.on('SIGTERM', () => server.stop().then(() => process.exit(0)));
