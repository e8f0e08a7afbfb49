pip wheel --no-deps -w dist .                              # the wheel (or: python -m build)
pip install "dist/neurostack-0.1.0-py3-none-any.whl[all]"  # node, hub, workers, ZK: `neurostack up`
pip install dist/neurostack-0.1.0-py3-none-any.whl         # the SDK only: protocol + hub_client
