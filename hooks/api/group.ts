/** The API group and version of our kinds. */

export const API_GROUP = 'utxo.com.br'
export const API_VERSION = 'v1alpha1'
export const GROUP_VERSION = `${API_GROUP}/${API_VERSION}`
