// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import "neurostack/NeuroTensors.sol";

/// @title EnergyForecast: two models in one transaction, the second fed by the first.
/// @notice `forecast` asks the weather model for tomorrow's temperature, then hands that
///         output tensor, unchanged, to the demand model and stores both answers. While
///         pre-executing, the sequencer learns the second request only once the first
///         result is in (PIPE "stitch"); both signed receipts land in the same block.
contract EnergyForecast {
    using NeuroTensors for ModelOutput;

    string public weatherModel; // x [N, 4] -> temperature [N, 1]
    string public demandModel; // temperature [N, 1] -> demand [N, 1]

    int256 public temperature; // with `decimals` decimals, as the weather model answered
    int256 public demand; // MW, with `decimals` decimals
    int128 public decimals;

    event Forecast(
        address indexed by,
        bytes32 weatherRequest,
        bytes32 demandRequest,
        int256 temperature,
        int256 demand,
        int128 decimals
    );

    constructor(string memory weatherModel_, string memory demandModel_) {
        weatherModel = weatherModel_;
        demandModel = demandModel_;
    }

    function forecast(int256[] calldata today, int128 todayDecimals) external returns (int256) {
        ModelInput memory first =
            NeuroTensors.singleInput(NeuroTensors.rowTensor("x", today, todayDecimals));
        ModelOutput memory weather = NeuroTensors.inferenceOf(MODE_VANILLA, weatherModel, first);
        // The weather model's output tensor is named "temperature" with shape [1, 1]:
        // exactly the demand model's input, so it is passed on as it came.
        ModelInput memory second =
            NeuroTensors.singleInput(NeuroTensors.numberTensorOf(weather, "temperature"));
        Number memory t = weather.getNumber("temperature", 0);
        Number memory d =
            NeuroTensors.inferenceOf(MODE_VANILLA, demandModel, second).getNumber("demand", 0);
        temperature = t.value;
        demand = d.value;
        decimals = d.decimals;
        emit Forecast(
            msg.sender,
            NeuroTensors.requestId(MODE_VANILLA, weatherModel, first),
            NeuroTensors.requestId(MODE_VANILLA, demandModel, second),
            t.value,
            d.value,
            d.decimals
        );
        return d.value;
    }
}
