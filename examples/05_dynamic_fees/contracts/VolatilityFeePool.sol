// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import "neurostack/NeuroTensors.sol";
import "./DemoToken.sol";

/// @title VolatilityFeePool: a constant-product AMM whose swap fee a model sets.
/// @notice Before every swap the pool asks a volatility model about the last WINDOW price
///         moves (absolute returns in percent) and charges
///         fee = MIN_FEE_BPS + volatility% · FEE_BPS_PER_PERCENT, at most MAX_FEE_BPS:
///         calm markets trade cheaply, volatile ones pay the liquidity provider for the
///         risk. The fee stays in the pool (out = reserveOut · in' / (reserveIn + in'),
///         in' = in · (10000 − fee) / 10000). One liquidity provider, no LP tokens: the
///         example is about the fee.
contract VolatilityFeePool {
    using NeuroTensors for ModelOutput;

    uint256 public constant WINDOW = 8; // price moves the model sees
    uint16 public constant MIN_FEE_BPS = 5;
    uint16 public constant MAX_FEE_BPS = 500;
    uint256 public constant FEE_BPS_PER_PERCENT = 20; // per 1 % of estimated volatility
    int128 public constant RETURN_DECIMALS = 6; // model input: percent with 6 decimals

    DemoToken public immutable token0;
    DemoToken public immutable token1;
    string public modelCID; // abs_returns [N, 8] -> volatility [N, 1], in percent
    address public immutable provider;

    uint256 public reserve0;
    uint256 public reserve1;
    uint256[9] private prices; // ring of the last WINDOW + 1 prices (token1 per token0, 1e18)
    uint256 private newest; // index of the latest price in `prices`

    uint16 public lastFeeBps;
    int256 public lastVolatility; // percent, 6 decimals

    event Swap(
        address indexed trader,
        bool zeroForOne,
        uint256 amountIn,
        uint256 amountOut,
        uint16 feeBps,
        int256 volatility,
        bytes32 requestId
    );

    error NotProvider(address caller);
    error AlreadyProvided();
    error Slippage(uint256 amountOut, uint256 minOut);

    constructor(DemoToken token0_, DemoToken token1_, string memory modelCID_) {
        token0 = token0_;
        token1 = token1_;
        modelCID = modelCID_;
        provider = msg.sender;
    }

    /// @notice The provider's one-time deposit; the price history starts flat at its ratio.
    function provide(uint256 amount0, uint256 amount1) external {
        if (msg.sender != provider) revert NotProvider(msg.sender);
        if (reserve0 != 0) revert AlreadyProvided();
        token0.transferFrom(msg.sender, address(this), amount0);
        token1.transferFrom(msg.sender, address(this), amount1);
        reserve0 = amount0;
        reserve1 = amount1;
        uint256 p = price();
        for (uint256 i = 0; i < prices.length; i++) prices[i] = p;
    }

    function price() public view returns (uint256) {
        return reserve1 * 1e18 / reserve0;
    }

    /// @notice The model's input for the next swap: |p[i+1] − p[i]| / p[i] in percent
    ///         (RETURN_DECIMALS decimals), oldest move first.
    function features() public view returns (int256[] memory out) {
        out = new int256[](WINDOW);
        for (uint256 k = 0; k < WINDOW; k++) {
            uint256 older = prices[(newest + 1 + k) % prices.length];
            uint256 newer = prices[(newest + 2 + k) % prices.length];
            uint256 move = newer > older ? newer - older : older - newer;
            out[k] = int256(move * 1e8 / older);
        }
    }

    /// @notice The fee for an estimated volatility (percent, RETURN_DECIMALS decimals).
    function feeFor(int256 volatility) public pure returns (uint16) {
        if (volatility <= 0) return MIN_FEE_BPS;
        uint256 fee = MIN_FEE_BPS + uint256(volatility) * FEE_BPS_PER_PERCENT / 1e6;
        return fee > MAX_FEE_BPS ? MAX_FEE_BPS : uint16(fee);
    }

    /// @notice Swap `amountIn` of token0 for token1 (`zeroForOne`) or the other way.
    function swap(bool zeroForOne, uint256 amountIn, uint256 minOut)
        external
        returns (uint256 amountOut)
    {
        (uint16 fee, int256 volatility, bytes32 requestId) = _askModel();
        amountOut = _settle(zeroForOne, amountIn, minOut, fee);
        newest = (newest + 1) % prices.length;
        prices[newest] = price();
        lastFeeBps = fee;
        lastVolatility = volatility;
        emit Swap(msg.sender, zeroForOne, amountIn, amountOut, fee, volatility, requestId);
    }

    /// @dev The model's volatility estimate for the current history, and the fee it sets.
    function _askModel() private returns (uint16 fee, int256 volatility, bytes32 requestId) {
        ModelInput memory input = NeuroTensors.singleInput(
            NeuroTensors.rowTensor("abs_returns", features(), RETURN_DECIMALS)
        );
        ModelOutput memory out = NeuroTensors.inferenceOf(MODE_VANILLA, modelCID, input);
        volatility = NeuroTensors.toFixed(out.getNumber("volatility", 0), 6);
        fee = feeFor(volatility);
        requestId = NeuroTensors.requestId(MODE_VANILLA, modelCID, input);
    }

    /// @dev Constant-product swap with the fee kept in the pool.
    function _settle(bool zeroForOne, uint256 amountIn, uint256 minOut, uint16 fee)
        private
        returns (uint256 amountOut)
    {
        (DemoToken tokenIn, DemoToken tokenOut, uint256 reserveIn, uint256 reserveOut) = zeroForOne
            ? (token0, token1, reserve0, reserve1)
            : (token1, token0, reserve1, reserve0);
        uint256 inAfterFee = amountIn * (10000 - fee) / 10000;
        amountOut = reserveOut * inAfterFee / (reserveIn + inAfterFee);
        if (amountOut == 0 || amountOut < minOut) revert Slippage(amountOut, minOut);
        tokenIn.transferFrom(msg.sender, address(this), amountIn);
        tokenOut.transfer(msg.sender, amountOut);
        if (zeroForOne) {
            (reserve0, reserve1) = (reserveIn + amountIn, reserveOut - amountOut);
        } else {
            (reserve1, reserve0) = (reserveIn + amountIn, reserveOut - amountOut);
        }
    }
}
