neurostack compile [--project DIR] [--check] [--evm-version cancun]
