// SPDX-License-Identifier: MIT
pragma solidity ^0.8.18;

// An OpenGradient-style consumer, written against OpenGradient's published interfaces
// (contracts/opengradient, compiled unchanged). It branches on `is_simulation_result`:
// `predict` stores a prediction only in a transaction and reports a simulated one without
// storing it; `predictOrRevertInSimulation` refuses a simulated output. `completion`,
// `chat` and `priceFeed` call the OpenGradient functions this chain answers with a revert.
import "opengradient/og_inference/OGInference.sol";
import "opengradient/historical/OGHistorical.sol";

contract SimulationAwareConsumer {
    event Prediction(int128 value, int128 decimals, bool simulation);

    OGHistorical constant PRICE_HISTORY = OGHistorical(0x00000000000000000000000000000000000000F5);

    string public inputName;
    int128 public lastValue;
    int128 public lastDecimals;
    uint256 public stored;

    constructor(string memory _inputName) {
        inputName = _inputName;
    }

    function _infer(string memory cid, int128[] memory features, int128 decimals)
        internal
        returns (ModelOutput memory)
    {
        TensorLib.Number[][] memory rows = new TensorLib.Number[][](1);
        rows[0] = new TensorLib.Number[](features.length);
        for (uint256 i = 0; i < features.length; i++) {
            rows[0][i] = TensorLib.Number(features[i], decimals);
        }
        ModelInput memory input = ModelInput(
            new TensorLib.MultiDimensionalNumberTensor[](1), new TensorLib.StringTensor[](0)
        );
        input.numbers[0] = TensorLib.numberTensor2D(inputName, rows);
        return OG_INFERENCE_CONTRACT.runModelInference(
            ModelInferenceRequest(ModelInferenceMode.VANILLA, cid, input)
        );
    }

    /// A transaction stores the prediction; a simulation only returns it, flagged.
    function predict(string memory cid, int128[] memory features, int128 decimals)
        external
        returns (int128 value, bool simulation)
    {
        ModelOutput memory out = _infer(cid, features, decimals);
        TensorLib.Number memory n = out.numbers[0].values[0];
        value = n.value;
        simulation = out.is_simulation_result;
        if (!simulation) {
            lastValue = n.value;
            lastDecimals = n.decimals;
            stored += 1;
        }
        emit Prediction(n.value, n.decimals, simulation);
    }

    /// Refuses to act on a simulated output (so eth_call and eth_estimateGas revert).
    function predictOrRevertInSimulation(string memory cid, int128[] memory features, int128 decimals)
        external
        returns (int128 value)
    {
        ModelOutput memory out = _infer(cid, features, decimals);
        require(!out.is_simulation_result, "refusing a simulated model output");
        value = out.numbers[0].values[0].value;
        lastValue = value;
        lastDecimals = out.numbers[0].values[0].decimals;
        stored += 1;
    }

    function completion(string memory cid, string memory prompt) external returns (string memory) {
        LLMCompletionRequest memory request = LLMCompletionRequest(
            LLMInferenceMode.VANILLA, cid, prompt, 50, new string[](0), 0
        );
        return OG_INFERENCE_CONTRACT.runLLMCompletion(request).answer;
    }

    function chat(string memory cid, string memory content) external returns (string memory) {
        ChatMessage[] memory messages = new ChatMessage[](1);
        messages[0] = ChatMessage("user", content, "", "", new ToolCall[](0));
        LLMChatRequest memory request = LLMChatRequest(
            LLMInferenceMode.TEE, cid, messages, new ToolDefinition[](0), "", 50, new string[](0), 0
        );
        return OG_INFERENCE_CONTRACT.runLLMChat(request).message.content;
    }

    function priceFeed(string memory cid) external returns (bool) {
        CandleType[] memory candles = new CandleType[](1);
        candles[0] = CandleType.Close;
        HistoricalInputQuery memory query =
            HistoricalInputQuery("ETH/USD", 10, 30, CandleOrder.Ascending, candles);
        return PRICE_HISTORY.runInferenceOnPriceFeed(cid, "open_high_low_close", query)
            .is_simulation_result;
    }
}
