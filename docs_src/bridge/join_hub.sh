# terminal 1: chain A with the reference hub and two workers
cd alpha && neurostack up
# terminal 2: chain B joins A's hub (B's chain.toml admits A's sprinter addresses in
# [inference].sprinters: they are in alpha/chain.toml)
cd beta && REDIS_URL="$(cat ../alpha/hub/redis/url)" neurostack up --hub-url http://127.0.0.1:8600
